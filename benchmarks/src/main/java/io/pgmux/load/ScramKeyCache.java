package io.pgmux.load;

import com.ongres.scram.common.ScramFunctions;
import com.ongres.scram.common.ScramMechanism;
import com.ongres.scram.common.StringPreparation;
import io.pgmux.protocol.auth.ScramClientExchange;
import io.pgmux.protocol.auth.ScramVerifier;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;

/**
 * The harness's client-side SCRAM keys: a real client (libpq) derives them from the password with 4096 rounds of
 * PBKDF2 at every login, which would make the load generator, not the target, the bottleneck of an idle crowd or a
 * connection storm. After the first login the keys for the server's salt and iteration count are kept and later
 * logins prove the same password with them. The target's side of every login is unchanged.
 */
final class ScramKeyCache {
    private record Keys(ScramVerifier verifier, byte[] clientKey) {}

    private final String password;
    private volatile Keys keys;

    ScramKeyCache(String password) {
        this.password = password;
    }

    ScramClientExchange newExchange(SecureRandom random) {
        Keys k = keys;
        return k == null
                ? ScramClientExchange.withPassword(password, random)
                : ScramClientExchange.withClientKey(k.verifier(), k.clientKey(), random);
    }

    /** Learns the salt and iterations from a server-first-message; computes the keys when they are new. */
    void learn(String serverFirst) {
        byte[] salt = null;
        int iterations = 0;
        for (String attribute : serverFirst.split(",")) {
            if (attribute.startsWith("s=")) {
                salt = Base64.getDecoder().decode(attribute.substring(2));
            } else if (attribute.startsWith("i=")) {
                iterations = Integer.parseInt(attribute.substring(2));
            }
        }
        Keys k = keys;
        if (salt == null
                || iterations < 1
                || (k != null
                        && Arrays.equals(k.verifier().salt(), salt)
                        && k.verifier().iterations() == iterations)) {
            return;
        }
        byte[] salted = ScramFunctions.saltedPassword(
                ScramMechanism.SCRAM_SHA_256,
                StringPreparation.POSTGRESQL_PREPARATION,
                password.toCharArray(),
                salt,
                iterations);
        byte[] clientKey = ScramFunctions.clientKey(ScramMechanism.SCRAM_SHA_256, salted);
        keys = new Keys(ScramVerifier.fromPassword(password, salt, iterations), clientKey);
    }
}
