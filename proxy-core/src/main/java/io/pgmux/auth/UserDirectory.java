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
 * expensive key derivation.
 */
public final class UserDirectory {
    private final Map<String, UserConfig> users;
    private final Map<String, ScramVerifier> derivedVerifiers = new ConcurrentHashMap<>();
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
            return Optional.of(ScramVerifier.parse(secret));
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
