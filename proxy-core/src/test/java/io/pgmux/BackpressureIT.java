package io.pgmux;

import static io.pgmux.TestProxy.database;
import static io.pgmux.TestProxy.user;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.PooledByteBufAllocator;
import io.pgmux.testkit.TestPostgres;
import java.io.IOException;
import java.io.Writer;
import java.sql.Connection;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.postgresql.PGConnection;

/**
 * A slow client reading a big result: pgmux stops reading from the server while the client's
 * socket is full, so its buffer memory stays flat instead of holding the whole result.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class BackpressureIT {
    private static final String DB = "it_backpressure";
    private static final String USER = "it_backpressure_user";
    private static final String PASSWORD = "it-backpressure-pw";
    /** 1M rows of 200 bytes: 200 MB through a reader slower than PostgreSQL; -Dpgmux.it.backpressure.rows for more. */
    private static final long ROWS = Long.getLong("pgmux.it.backpressure.rows", 1_000_000L);

    private static final long MAX_DIRECT_BYTES = 64L << 20;
    /**
     * For a COPY split mid-message, growth over what the allocator held before: 4 MiB (one pooled chunk) with
     * FrameDecoder's cumulator; Netty's own reached 32–56 MiB.
     */
    private static final long SPLIT_MAX_DIRECT_BYTES = 16L << 20;

    @Test
    void slowReaderOfAHugeResultKeepsPgmuxMemoryFlat() throws Exception {
        TestPostgres pg = TestPostgres.shared();
        pg.createUser(USER, PASSWORD);
        pg.createDatabase(DB, USER);
        try (TestProxy proxy = TestProxy.start("auth.users { " + user(USER, PASSWORD) + " }\n" + "databases { "
                        + database(DB, pg, "") + " }");
                Connection c = proxy.connect(DB, USER, PASSWORD, "socketTimeout=150")) {
            AtomicLong maxDirect = new AtomicLong();
            AtomicLong lines = new AtomicLong();
            Writer slowReader = new Writer() {
                private long chars;

                @Override
                public void write(char[] buf, int off, int len) throws IOException {
                    for (int i = off; i < off + len; i++) {
                        if (buf[i] == '\n') {
                            lines.incrementAndGet();
                        }
                    }
                    chars += len;
                    if (chars > (1 << 20)) {
                        chars = 0;
                        maxDirect.accumulateAndGet(
                                PooledByteBufAllocator.DEFAULT.metric().usedDirectMemory(), Math::max);
                        try {
                            Thread.sleep(4); // a slow consumer: about 250 MB/s at most
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                            throw new IOException(e);
                        }
                    }
                }

                @Override
                public void flush() {}

                @Override
                public void close() {}
            };
            long copied = c.unwrap(PGConnection.class)
                    .getCopyAPI()
                    .copyOut(
                            "COPY (SELECT lpad(g::text, 200, 'x') FROM generate_series(1, " + ROWS + ") g) TO STDOUT",
                            slowReader);
            assertEquals(ROWS, copied);
            assertEquals(ROWS, lines.get());
            assertTrue(
                    maxDirect.get() < MAX_DIRECT_BYTES,
                    "pgmux held " + (maxDirect.get() >> 20) + " MiB of buffers while streaming; expected under "
                            + (MAX_DIRECT_BYTES >> 20) + " MiB");
        }
    }

    @Test
    void fastCopyInOfAHugeStreamKeepsPgmuxMemoryFlat() throws Exception {
        TestPostgres pg = TestPostgres.shared();
        pg.createUser(USER, PASSWORD);
        pg.createDatabase(DB, USER);
        try (TestProxy proxy = TestProxy.start("auth.users { " + user(USER, PASSWORD) + " }\n" + "databases { "
                        + database(DB, pg, "") + " }");
                Connection c = proxy.connect(DB, USER, PASSWORD, "socketTimeout=150")) {
            try (var s = c.createStatement()) {
                s.execute("DROP TABLE IF EXISTS sink");
                s.execute("CREATE UNLOGGED TABLE sink (line text)");
            }
            AtomicLong maxDirect = new AtomicLong();
            String row = "x".repeat(199) + "\n";
            long rows = ROWS / 2;
            java.io.Reader fastWriter = new java.io.Reader() {
                private long left = rows;
                private int offset;

                @Override
                public int read(char[] buf, int off, int len) {
                    if (left == 0) {
                        return -1;
                    }
                    int n = 0;
                    while (n < len && left > 0) {
                        int chunk = Math.min(len - n, row.length() - offset);
                        row.getChars(offset, offset + chunk, buf, off + n);
                        n += chunk;
                        offset += chunk;
                        if (offset == row.length()) {
                            offset = 0;
                            if (--left % 10_000 == 0) {
                                maxDirect.accumulateAndGet(
                                        PooledByteBufAllocator.DEFAULT.metric().usedDirectMemory(), Math::max);
                            }
                        }
                    }
                    return n;
                }

                @Override
                public void close() {}
            };
            long copied = c.unwrap(PGConnection.class).getCopyAPI().copyIn("COPY sink FROM STDIN", fastWriter);
            assertEquals(rows, copied);
            assertTrue(
                    maxDirect.get() < MAX_DIRECT_BYTES,
                    "pgmux held " + (maxDirect.get() >> 20) + " MiB of buffers during COPY FROM STDIN");
            try (var s = c.createStatement()) {
                s.execute("DROP TABLE sink");
            }
        }
    }

    /**
     * COPY data split across the client's writes as a network splits it, so that hardly any read of pgmux's ends
     * between two messages: 100 MB in CopyData messages of 8,191 bytes, written 65,536 bytes at a time with a pause
     * between writes, so that pgmux reads each write alone. pgmux must hold what is in flight, not what it relayed:
     * FrameDecoder's cumulator moves only the unread part of a message on to the next read, where Netty's own let
     * one buffer grow to 32–56 MiB here.
     */
    @Test
    void copyDataSplitMidMessageKeepsPgmuxMemoryFlat() throws Exception {
        TestPostgres pg = TestPostgres.shared();
        pg.createUser(USER, PASSWORD);
        pg.createDatabase(DB, USER);
        // 100 messages of 8,186 bytes of payload carry exactly 4,093 rows of 200 bytes: one period, repeated.
        int rowsPerPeriod = 4_093;
        byte[] period = new byte[100 * 8_191];
        for (int m = 0; m < 100; m++) {
            int at = m * 8_191;
            period[at] = 'd';
            period[at + 1] = 0;
            period[at + 2] = 0;
            period[at + 3] = (byte) (8_190 >> 8);
            period[at + 4] = (byte) 8_190;
            for (int i = 0; i < 8_186; i++) {
                period[at + 5 + i] = (m * 8_186 + i) % 200 == 199 ? (byte) '\n' : (byte) 'x';
            }
        }
        int periods = 122;
        long total = (long) period.length * periods;
        try (TestProxy proxy = TestProxy.start("auth.type = plain\nauth.users { " + user(USER, PASSWORD)
                        + " }\ndatabases { " + database(DB, pg, "") + " }");
                WireClient client = WireClient.login(proxy.port(), DB, USER, PASSWORD)) {
            client.query("DROP TABLE IF EXISTS split_sink; CREATE UNLOGGED TABLE split_sink (line text)");
            client.readUntilReady();
            client.query("COPY split_sink FROM STDIN");
            assertEquals('G', client.read().type());
            // The allocator is shared with the tests before this one: what they left in it is not this COPY's.
            long before = PooledByteBufAllocator.DEFAULT.metric().usedDirectMemory();
            long maxDirect = before;
            byte[] chunk = new byte[65_536];
            for (long sent = 0; sent < total; ) {
                int n = (int) Math.min(chunk.length, total - sent);
                for (int i = 0; i < n; i++) {
                    chunk[i] = period[(int) ((sent + i) % period.length)];
                }
                client.send(n == chunk.length ? chunk : Arrays.copyOf(chunk, n));
                sent += n;
                // A moment for pgmux to read the chunk alone, as a network paces a stream: one read per readiness.
                LockSupport.parkNanos(500_000);
                maxDirect = Math.max(
                        maxDirect, PooledByteBufAllocator.DEFAULT.metric().usedDirectMemory());
            }
            client.sendTyped('c', new byte[0]);
            List<WireClient.Message> done = client.readUntilReady();
            assertEquals("COPY " + (long) rowsPerPeriod * periods, done.get(0).tag(), done::toString);
            assertTrue(
                    maxDirect - before <= SPLIT_MAX_DIRECT_BYTES,
                    "pgmux held " + ((maxDirect - before) >> 20) + " MiB more of buffers for " + (total >> 20)
                            + " MiB of COPY data");
            client.query("DROP TABLE split_sink");
            client.readUntilReady();
        }
    }
}
