package io.pgmux.bench;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.pgmux.protocol.Frame;
import io.pgmux.protocol.codec.FrameDecoder;
import io.pgmux.protocol.message.CommandComplete;
import io.pgmux.protocol.message.DataRow;
import io.pgmux.protocol.message.ReadyForQuery;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Framing a server's answer, as pgmux does for every read: {@code rows} DataRows, a CommandComplete and a
 * ReadyForQuery arrive in one buffer, are split into {@link Frame}s by {@link FrameDecoder} and forwarded (here:
 * released). Reported per answer.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class FrameDecoderBenchmark {
    @Param({"1", "100"})
    int rows;

    private ByteBuf answer;
    private EmbeddedChannel channel;

    @Setup
    public void setUp() {
        answer = Unpooled.directBuffer();
        List<String> columns = List.of("42", "a text column of some length");
        for (int i = 0; i < rows; i++) {
            new DataRow(columns).encode(answer);
        }
        new CommandComplete("SELECT " + rows).encode(answer);
        ReadyForQuery.IDLE.encode(answer);
        channel = new EmbeddedChannel(new FrameDecoder(1 << 20));
    }

    @TearDown
    public void tearDown() {
        channel.finishAndReleaseAll();
        answer.release();
    }

    @Benchmark
    public int frameAndForward() {
        channel.writeInbound(answer.retainedDuplicate());
        int frames = 0;
        for (Object frame; (frame = channel.readInbound()) != null; ) {
            frames += ((Frame) frame).type();
            ((Frame) frame).release();
        }
        return frames;
    }
}
