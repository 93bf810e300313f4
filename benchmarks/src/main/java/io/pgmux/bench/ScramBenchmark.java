package io.pgmux.bench;

import io.pgmux.protocol.auth.ScramClientExchange;
import io.pgmux.protocol.auth.ScramServerExchange;
import io.pgmux.protocol.auth.ScramVerifier;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * pgmux's side of a client's SCRAM-SHA-256 login: server-first, then the proof check and server-final against a
 * stored verifier (4096 iterations; the verifier is precomputed, so no PBKDF2 runs on this side). The client's
 * messages are computed once in set-up with fixed nonces, so that every iteration checks the same valid proof.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class ScramBenchmark {
    private ScramVerifier verifier;
    private String clientFirst;
    private String clientFinal;

    @Setup
    public void setUp() {
        verifier = ScramVerifier.fromPassword("bench-password", new FixedRandom());
        ScramClientExchange client = ScramClientExchange.withPassword("bench-password", new FixedRandom());
        clientFirst = client.clientFirst();
        String serverFirst = new ScramServerExchange(verifier, new FixedRandom()).serverFirst(clientFirst);
        clientFinal = client.clientFinal(serverFirst);
        if (verify().isEmpty()) {
            throw new IllegalStateException("the precomputed SCRAM proof does not verify");
        }
    }

    @Benchmark
    public String verify() {
        ScramServerExchange server = new ScramServerExchange(verifier, new FixedRandom());
        server.serverFirst(clientFirst);
        return server.serverFinal(clientFinal).orElse("");
    }

    /** Same "random" bytes every time, so that nonces repeat across exchanges. */
    private static final class FixedRandom extends SecureRandom {
        private static final long serialVersionUID = 1L;

        @Override
        public void nextBytes(byte[] bytes) {
            Arrays.fill(bytes, (byte) 7);
        }
    }
}
