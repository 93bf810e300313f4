package io.pgmux.protocol.fuzz;

import java.io.ByteArrayOutputStream;
import java.util.Arrays;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;

/**
 * One edit of a valid byte sequence, as a fuzzer would make it: flip a bit, overwrite a byte or a 4-byte integer
 * (such as a length field) with an awkward value, cut, insert, repeat a range or truncate. Positions are taken
 * modulo the length of the input, so any mutation applies to any input.
 */
public record Mutation(Kind kind, int position, int value) {
    /** What a mutation does. */
    public enum Kind {
        FLIP_BIT,
        SET_BYTE,
        SET_INT,
        DELETE,
        INSERT,
        REPEAT,
        TRUNCATE
    }

    /** Integers that sit on the edges of length checks: negative, tiny, the 4/5/8 of headers, huge. */
    static final List<Integer> AWKWARD_INTS = List.of(
            -1, 0, 1, 2, 3, 4, 5, 7, 8, 9, 255, 256, 257, 10_000, 10_001, 65_535, Integer.MAX_VALUE, Integer.MIN_VALUE);

    public static Arbitrary<Mutation> any() {
        Arbitrary<Integer> values = Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(1, Arbitraries.of(AWKWARD_INTS)),
                net.jqwik.api.Tuple.of(1, Arbitraries.integers()));
        return Combinators.combine(
                        Arbitraries.of(Kind.class), Arbitraries.integers().between(0, Integer.MAX_VALUE), values)
                .as(Mutation::new);
    }

    /** Some mutations, applied in order. */
    public static Arbitrary<List<Mutation>> some() {
        return any().list().ofMinSize(1).ofMaxSize(4);
    }

    public static byte[] applyAll(byte[] input, List<Mutation> mutations) {
        byte[] out = input;
        for (Mutation m : mutations) {
            out = m.apply(out);
        }
        return out;
    }

    public byte[] apply(byte[] in) {
        int n = in.length;
        int at = n == 0 ? 0 : Math.floorMod(position, n);
        switch (kind) {
            case FLIP_BIT -> {
                if (n == 0) {
                    return in;
                }
                byte[] out = in.clone();
                out[at] ^= (byte) (1 << Math.floorMod(value, 8));
                return out;
            }
            case SET_BYTE -> {
                if (n == 0) {
                    return new byte[] {(byte) value};
                }
                byte[] out = in.clone();
                out[at] = (byte) value;
                return out;
            }
            case SET_INT -> {
                byte[] out = Arrays.copyOf(in, Math.max(n, at + 4));
                out[at] = (byte) (value >>> 24);
                out[at + 1] = (byte) (value >>> 16);
                out[at + 2] = (byte) (value >>> 8);
                out[at + 3] = (byte) value;
                return out;
            }
            case DELETE -> {
                int length = Math.min(n - at, 1 + Math.floorMod(value, 8));
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                out.write(in, 0, at);
                out.write(in, at + length, n - at - length);
                return out.toByteArray();
            }
            case INSERT -> {
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                out.write(in, 0, at);
                int length = 1 + Math.floorMod(value, 6);
                for (int i = 0; i < length; i++) {
                    out.write(value >>> (8 * (i % 4)));
                }
                out.write(in, at, n - at);
                return out.toByteArray();
            }
            case REPEAT -> {
                int length = Math.min(n - at, 1 + Math.floorMod(value, 16));
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                out.write(in, 0, at + length);
                out.write(in, at, n - at);
                return out.toByteArray();
            }
            case TRUNCATE -> {
                return Arrays.copyOf(in, at);
            }
            default -> throw new IllegalStateException("unknown mutation " + kind);
        }
    }
}
