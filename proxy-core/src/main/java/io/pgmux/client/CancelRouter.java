package io.pgmux.client;

import io.pgmux.protocol.message.BackendKeyData;
import io.pgmux.protocol.message.CancelRequest;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Issues each client its own cancel key (pgmux's, not a server's) and routes a CancelRequest that
 * carries it to that client's session, which cancels the query on the server it is using.
 */
public final class CancelRouter {
    private final Map<Integer, Entry> sessions = new ConcurrentHashMap<>();
    private final AtomicInteger nextProcessId;
    private final SecureRandom random;

    private record Entry(byte[] secret, ClientSession session) {}

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
        } while (pid == 0 || sessions.putIfAbsent(pid, new Entry(secret, session)) != null);
        return new BackendKeyData(pid, secret);
    }

    void unregister(BackendKeyData key) {
        sessions.remove(key.processId());
    }

    /** Routes a cancel; a wrong or unknown key does nothing, as in PostgreSQL. */
    void cancel(CancelRequest request) {
        Entry entry = sessions.get(request.processId());
        if (entry != null && MessageDigest.isEqual(entry.secret(), request.secretKey())) {
            entry.session().requestCancel();
        }
    }
}
