package io.pgmux.bench;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.pgmux.protocol.Frame;
import io.pgmux.protocol.message.Bind;
import io.pgmux.protocol.message.Message;
import io.pgmux.protocol.message.Parse;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What transaction mode does to a client's named prepared statements (pgbench -M prepared): a Bind naming the
 * client's statement is read and written again under the server-side name pgmux gave it; the first time, the Parse
 * is renamed the same way.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class ParseBindRewriteBenchmark {
    private final ByteBufAllocator alloc = PooledByteBufAllocator.DEFAULT;
    private ByteBuf parseWire;
    private ByteBuf bindWire;

    @Setup
    public void setUp() {
        parseWire = Unpooled.directBuffer();
        new Parse("P_0", "SELECT abalance FROM pgbench_accounts WHERE aid = $1", List.of()).encode(parseWire);
        bindWire = Unpooled.directBuffer();
        new Bind("", "P_0", new byte[] {0, 0, 0, 1, 0, 0, 0, 5, '4', '2', '4', '2', '4', 0, 0}).encode(bindWire);
    }

    @TearDown
    public void tearDown() {
        parseWire.release();
        bindWire.release();
    }

    /** As pgmux does it: the names are found in place and the rest is copied behind the new one. */
    @Benchmark
    public int renameBind() {
        Frame frame = new Frame(bindWire.retainedDuplicate());
        ByteBuf out = Bind.withStatement(frame.body(), "pgmux_s17", alloc);
        try {
            return out.readableBytes();
        } finally {
            out.release();
            frame.release();
        }
    }

    @Benchmark
    public int renameParse() {
        return rename(parseWire, body -> {
            Parse parse = Parse.decode(body);
            return new Parse("pgmux_s17", parse.sql(), parse.parameterTypes());
        });
    }

    /** Frames the client's message, decodes it, encodes the renamed one into a new buffer, releases both. */
    private int rename(ByteBuf wire, Function<ByteBuf, Message> renamed) {
        Frame frame = new Frame(wire.retainedDuplicate());
        ByteBuf out = alloc.directBuffer(wire.readableBytes() + 16);
        try {
            renamed.apply(frame.body()).encode(out);
            return out.readableBytes();
        } finally {
            out.release();
            frame.release();
        }
    }
}
