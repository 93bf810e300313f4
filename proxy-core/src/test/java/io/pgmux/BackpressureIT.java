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
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
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
}
