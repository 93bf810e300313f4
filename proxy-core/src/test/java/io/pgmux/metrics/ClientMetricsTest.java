package io.pgmux.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.netty.buffer.ByteBufAllocator;
import io.pgmux.pool.Pool;
import io.pgmux.pool.PoolKey;
import io.pgmux.protocol.Frame;
import io.pgmux.protocol.Severity;
import io.pgmux.protocol.message.ErrorResponse;
import io.pgmux.protocol.message.Message;
import io.pgmux.protocol.message.ReadyForQuery;
import io.pgmux.protocol.message.TransactionStatus;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * How a client's events become a pool's numbers: queries end at each ReadyForQuery, transactions at status idle,
 * pipelined round trips are timed from the previous answer, and relayed errors count by the class of their SQLSTATE.
 * An explicit clock, frames made as the server sends them.
 */
class ClientMetricsTest {
    private long now = TimeUnit.DAYS.toNanos(1);
    private PgmuxMetrics metrics;
    private PoolMetrics pool;
    private ClientMetrics client;
    private long sentBytes;

    @BeforeEach
    void setUp() {
        metrics = new PgmuxMetrics(() -> now);
        pool = metrics.pool(new PoolKey("appdb", "app"), () -> new Pool.Counts(0, 0, 0, 0, 0, 1));
        client = metrics.client();
        client.joined(pool);
        client.state(ClientState.IDLE);
    }

    @AfterEach
    void tearDown() {
        metrics.close();
    }

    @Test
    void aTransactionOfThreeQueriesCountsOnceWithItsWholeDuration() {
        query(TransactionStatus.IN_TRANSACTION, 1);
        query(TransactionStatus.IN_TRANSACTION, 2);
        query(TransactionStatus.IDLE, 3);
        assertEquals(3, count("pgmux.queries"));
        assertEquals(1, count("pgmux.transactions"));
        assertEquals(6, timerMillis("pgmux.transaction.duration"));
        assertEquals(6, timerMillis("pgmux.query.duration"));
    }

    @Test
    void autocommitQueriesAreTransactionsEach() {
        for (int i = 0; i < 4; i++) {
            query(TransactionStatus.IDLE, 2);
        }
        assertEquals(4, count("pgmux.queries"));
        assertEquals(4, count("pgmux.transactions"));
        assertEquals(8, timerMillis("pgmux.transaction.duration"));
    }

    @Test
    void aPipelinedRoundTripIsTimedFromThePreviousAnswer() {
        client.requestSent(); // first Sync sent
        now += ms(1);
        client.requestSent(); // second Sync sent before any answer
        now += ms(4);
        toClient(ReadyForQuery.IDLE, true);
        now += ms(2);
        toClient(ReadyForQuery.IDLE, false);
        assertEquals(2, count("pgmux.queries"));
        assertEquals(2, count("pgmux.transactions"));
        assertEquals(7, timerMillis("pgmux.query.duration"));
    }

    @Test
    void aLostServerStopsTheClocks() {
        client.requestSent();
        now += ms(50);
        client.serverLost();
        query(TransactionStatus.IDLE, 1);
        assertEquals(1, count("pgmux.queries"));
        assertEquals(1, timerMillis("pgmux.query.duration"));
    }

    @Test
    void waitsAreTimedFromAskingToTheAnswer() {
        client.state(ClientState.WAITING);
        client.waitStarted();
        now += ms(30);
        client.waitEnded();
        client.state(ClientState.ACTIVE);
        assertEquals(1, pool.clients(ClientState.ACTIVE));
        assertEquals(0, pool.clients(ClientState.WAITING));
        assertEquals(30, timerMillis("pgmux.pool.wait"));
        client.state(null);
        assertEquals(0, pool.clients(ClientState.ACTIVE));
    }

    @Test
    void relayedErrorsCountByTheirSqlStateClassAndBytesBothWays() {
        client.received(12);
        toClient(ErrorResponse.of(Severity.ERROR, "42P01", "relation \"nope\" does not exist"), false);
        toClient(ErrorResponse.of(Severity.ERROR, "23505", "duplicate key"), false);
        toClient(ErrorResponse.of(Severity.ERROR, "42601", "syntax error"), false);
        assertEquals(2, errors("42"));
        assertEquals(1, errors("23"));
        assertEquals(0, count("pgmux.received"), "received bytes are added once per read burst");
        assertEquals(0, count("pgmux.sent"), "relayed bytes are added once per read burst");
        client.countReceivedBytes();
        client.countRelayedBytes();
        assertEquals(12, count("pgmux.received"));
        assertEquals(sentBytes, count("pgmux.sent"));
        client.received(5);
        client.state(null);
        assertEquals(17, count("pgmux.received"), "a client that leaves mid-burst still counts");
    }

    private void query(TransactionStatus status, long millis) {
        client.requestSent();
        now += ms(millis);
        toClient(new ReadyForQuery(status), false);
    }

    private void toClient(Message message, boolean moreSent) {
        Frame frame = new Frame(message.toByteBuf(ByteBufAllocator.DEFAULT));
        sentBytes += frame.wireLength();
        try {
            client.toClient(frame, moreSent);
        } finally {
            frame.release();
        }
    }

    private double count(String name) {
        return metrics.registry().get(name).tag("database", "appdb").counter().count();
    }

    private double errors(String sqlClass) {
        return metrics.registry()
                .get("pgmux.errors")
                .tag("database", "appdb")
                .tag("sqlstate_class", sqlClass)
                .counter()
                .count();
    }

    private long timerMillis(String name) {
        return (long)
                metrics.registry().get(name).tag("database", "appdb").timer().totalTime(TimeUnit.MILLISECONDS);
    }

    private static long ms(long millis) {
        return TimeUnit.MILLISECONDS.toNanos(millis);
    }
}
