package io.pgmux.auth;

import io.pgmux.config.UserConfig;
import io.pgmux.protocol.auth.ScramVerifier;
import java.security.SecureRandom;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The users pgmux knows and their secrets (plain password, MD5 hash or SCRAM verifier), from the
 * configuration. Plain passwords get a SCRAM verifier made once, so SCRAM logins do not repeat the
 * expensive key derivation, and SCRAM verifiers are parsed once.
 */
public final class UserDirectory {
    private final Map<String, UserConfig> users;
    private final Map<String, ScramVerifier> derivedVerifiers = new ConcurrentHashMap<>();
    /** Verifier text (configured, or found by auth.query) → parsed; bounded, as auth.query may find many. */
    private final Map<String, ScramVerifier> parsedVerifiers = new ConcurrentHashMap<>();

    private static final int MAX_PARSED = 10_000;
    private final SecureRandom random;

    public UserDirectory(Map<String, UserConfig> users, SecureRandom random) {
        this.users = Map.copyOf(users);
        this.random = random;
    }

    public Optional<UserConfig> find(String user) {
        return Optional.ofNullable(users.get(user));
    }

    /** The SCRAM verifier for a user whose secret is a plain password or a verifier; empty for MD5. */
    Optional<ScramVerifier> scramVerifier(String user, String secret) {
        if (ScramVerifier.isVerifier(secret)) {
            // Parsed once: a SCRAM login reads its verifier at every connect. A secret that does not parse is
            // not cached, and fails as before.
            ScramVerifier known = parsedVerifiers.get(secret);
            if (known == null) {
                known = ScramVerifier.parse(secret);
                if (parsedVerifiers.size() >= MAX_PARSED) {
                    parsedVerifiers.clear();
                }
                parsedVerifiers.put(secret, known);
            }
            return Optional.of(known);
        }
        if (io.pgmux.protocol.auth.Md5.isMd5(secret)) {
            return Optional.empty();
        }
        return Optional.of(derivedVerifiers.computeIfAbsent(
                user + "\0" + secret, k -> ScramVerifier.fromPassword(secret, random)));
    }

    SecureRandom random() {
        return random;
    }
}
