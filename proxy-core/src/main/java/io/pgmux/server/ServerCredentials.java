package io.pgmux.server;

import java.util.Optional;
import java.util.function.Supplier;

/**
 * How pgmux logs in to PostgreSQL for one pool.
 *
 * @param user the PostgreSQL role
 * @param password plain text, an MD5 hash ({@code md5…}) or a SCRAM verifier; empty when none is
 *     configured (the server must trust pgmux)
 * @param scramClientKey the ClientKey a client revealed in its SCRAM login, for servers whose stored
 *     verifier pgmux holds but whose password it does not know; empty until a client logged in
 */
public record ServerCredentials(String user, Optional<String> password, Supplier<Optional<byte[]>> scramClientKey) {
    @Override
    public String toString() {
        return "ServerCredentials[user=" + user + "]";
    }
}
