package io.pgmux.server;

import java.util.Optional;
import java.util.function.Supplier;

/**
 * How pgmux logs in to PostgreSQL for one pool: the role, and where its secret comes from at the moment of each
 * login. The secret may change while the pool lives (a ClientKey learned from a client's SCRAM login, a password
 * {@code auth.query} found), so it is read once per login, as one value.
 *
 * @param user the PostgreSQL role
 * @param secret what to answer PostgreSQL's authentication request with
 */
public record ServerCredentials(String user, Supplier<Secret> secret) {
    /**
     * A server login's secret.
     *
     * @param password plain text, an MD5 hash ({@code md5…}) or a SCRAM verifier; empty when pgmux has none (the
     *     server must trust pgmux)
     * @param scramClientKey the ClientKey a client revealed in its SCRAM login against the verifier in {@code
     *     password}, for servers whose stored verifier pgmux holds but whose password it does not know; empty until a
     *     client logged in
     */
    public record Secret(Optional<String> password, Optional<byte[]> scramClientKey) {
        /** No password at all. */
        public static final Secret NONE = new Secret(Optional.empty(), Optional.empty());

        /** Never shows the secret: records end up in logs. */
        @Override
        public String toString() {
            return "Secret[password=" + password.map(p -> "***") + "]";
        }
    }

    @Override
    public String toString() {
        return "ServerCredentials[user=" + user + "]";
    }
}
