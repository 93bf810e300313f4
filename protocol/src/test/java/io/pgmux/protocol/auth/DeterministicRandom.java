package io.pgmux.protocol.auth;

import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;

/** Seeded SecureRandoms, so that nonces and salts, and so the tests, are the same on every run. */
final class DeterministicRandom {
    private DeterministicRandom() {}

    static SecureRandom seeded(long seed) {
        try {
            // SHA1PRNG seeded before its first use draws only from that seed.
            SecureRandom random = SecureRandom.getInstance("SHA1PRNG");
            random.setSeed(seed);
            return random;
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }
}
