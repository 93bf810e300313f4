package io.pgmux.client;

import io.pgmux.protocol.message.BackendKeyData;
import io.pgmux.protocol.message.CancelRequest;
import java.security.SecureRandom;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Issues each client its own cancel key (pgmux's, not a server's) and routes a CancelRequest that
 * carries it to that client's session, which cancels the query on the server it is using.
 */
public final class CancelRouter {
    /** By process ID; the secret to compare is the session's own key (no entry object per client). */
    private final Map<Integer, ClientSession> sessions = new ConcurrentHashMap<>();

    private final AtomicInteger nextProcessId;
    private final SecureRandom random;

    public CancelRouter(SecureRandom random) {
        this.random = random;
        this.nextProcessId = new AtomicInteger(1 + random.nextInt(1 << 20));
    }

    /** A fresh key for {@code session} with a secret of {@code secretLength} bytes (4, or up to 256 in protocol 3.2). */
    BackendKeyData register(ClientSession session, int secretLength) {
        byte[] secret = new byte[secretLength];
        random.nextBytes(secret);
        int pid;
        do {
            pid = nextProcessId.getAndIncrement() & Integer.MAX_VALUE;
            // The session learns its key from the return value; a cancel that finds it before then has no key to match.
        } while (pid == 0 || sessions.putIfAbsent(pid, session) != null);
        return new BackendKeyData(pid, secret);
    }

    void unregister(BackendKeyData key, ClientSession session) {
        sessions.remove(key.processId(), session);
    }

    /** Routes a cancel; a wrong or unknown key does nothing, as in PostgreSQL. */
    void cancel(CancelRequest request) {
        ClientSession session = sessions.get(request.processId());
        BackendKeyData key = session == null ? null : session.cancelKey();
        if (key != null && key.secretMatches(request.secretKey())) {
            session.requestCancel();
        }
    }
}
