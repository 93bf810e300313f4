package io.pgmux.auth;

import io.netty.channel.EventLoop;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import io.netty.util.concurrent.ScheduledFuture;
import io.pgmux.config.DurationFormat;
import io.pgmux.pool.CloseReason;
import io.pgmux.pool.Pool;
import io.pgmux.pool.ServerRequest;
import io.pgmux.protocol.Frame;
import io.pgmux.protocol.MessageType;
import io.pgmux.protocol.PgmuxException;
import io.pgmux.protocol.SqlState;
import io.pgmux.protocol.auth.ScramVerifier;
import io.pgmux.protocol.message.Bind;
import io.pgmux.protocol.message.DataRow;
import io.pgmux.protocol.message.ErrorResponse;
import io.pgmux.protocol.message.Execute;
import io.pgmux.protocol.message.ParameterStatus;
import io.pgmux.protocol.message.Parse;
import io.pgmux.protocol.message.ReadyForQuery;
import io.pgmux.protocol.message.Sync;
import io.pgmux.protocol.message.TransactionStatus;
import io.pgmux.server.ServerConnection;
import io.pgmux.server.ServerConnector;
import io.pgmux.server.ServerListener;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One run of {@code auth.query}: borrows a server from the query user's pool like a one-transaction client, sends
 * Parse/Bind/Execute/Sync with the user name as the only parameter (never spliced into the SQL), reads at most one row
 * of (name, secret), and gives the server back at ReadyForQuery. Touched only on {@code loop}.
 *
 * <p>States: WAITING (for a server) → RUNNING (attached, query sent) → DONE. A server that dies while RUNNING is
 * dropped by its pool; one that does not answer within the deadline gets its query canceled and is closed.
 */
final class AuthQueryRun implements ServerListener, ServerRequest {
    private static final Logger log = LoggerFactory.getLogger(AuthQueryRun.class);

    private enum Phase {
        WAITING,
        RUNNING,
        DONE
    }

    private final Pool pool;
    private final ServerConnector connector;
    private final String sql;
    private final String user;
    private final EventLoop loop;
    private final String clientName;
    private final Promise<Optional<String>> result;
    private Phase phase = Phase.WAITING;
    private ServerConnection server;
    private ScheduledFuture<?> deadline;
    private int rows;
    private String secret;
    /** Why the answer cannot be used: the server's error, or a result of the wrong shape; the first one counts. */
    private String problem;

    AuthQueryRun(Pool pool, ServerConnector connector, String sql, String user, EventLoop loop, String clientName) {
        this.pool = pool;
        this.connector = connector;
        this.sql = sql;
        this.user = user;
        this.loop = loop;
        this.clientName = clientName;
        this.result = loop.newPromise();
    }

    /**
     * Asks for a server; the result completes on the run's loop, failing after {@code timeout} (0: never). Called on
     * that loop.
     */
    Future<Optional<String>> start(Duration timeout) {
        assert loop.inEventLoop();
        if (!timeout.isZero()) {
            deadline = loop.schedule(() -> onDeadline(timeout), timeout.toMillis(), TimeUnit.MILLISECONDS);
        }
        pool.acquire(this);
        return result;
    }

    @Override
    public EventLoop eventLoop() {
        return loop;
    }

    @Override
    public String name() {
        return clientName;
    }

    @Override
    public void refused(PgmuxException error) {
        fail("no server to run it on: " + error.getMessage());
    }

    @Override
    public void granted(ServerConnection leased) {
        if (phase != Phase.WAITING) {
            pool.release(leased, null);
            return;
        }
        phase = Phase.RUNNING;
        server = leased;
        // Attached before anything is written, so that no reply can reach the server before it knows where to go.
        leased.attach(this);
        leased.write(new Parse("", sql, List.of()));
        leased.write(Bind.withTextParameters("", "", List.of(user)));
        leased.write(new Execute("", 0));
        leased.write(Sync.INSTANCE);
        leased.flush();
    }

    @Override
    public void onServerFrames(ServerConnection from, List<Frame> frames) {
        for (Frame frame : frames) {
            try {
                if (from == server && phase == Phase.RUNNING) {
                    onFrame(frame);
                }
            } finally {
                frame.release();
            }
        }
    }

    private void onFrame(Frame frame) {
        switch (frame.type()) {
            case MessageType.Backend.DATA_ROW -> onRow(DataRow.decode(frame.body()));
            case MessageType.Backend.ERROR_RESPONSE -> {
                ErrorResponse error = ErrorResponse.decode(frame.body());
                noteProblem(String.format("%s (SQLSTATE %s)", error.message(), error.sqlState()));
            }
            case MessageType.Backend.PARAMETER_STATUS -> {
                // Whoever holds a server keeps its settings up to date.
                ParameterStatus changed = ParameterStatus.decode(frame.body());
                server.settings().put(changed.name(), changed.value());
            }
            case MessageType.Backend.READY_FOR_QUERY ->
                onReady(ReadyForQuery.decode(frame.body()).status());
            default -> {
                // ParseComplete, BindComplete, CommandComplete, NoticeResponse: nothing to learn.
            }
        }
    }

    private void onRow(DataRow row) {
        rows++;
        if (rows > 1) {
            noteProblem("it returned more than one row; expected at most one (name, secret)");
        } else if (row.values().size() != 2) {
            noteProblem(String.format(
                    "it returned %d column(s); expected two, (name, secret)",
                    row.values().size()));
        } else {
            secret = row.values().get(1);
            checkVerifier(secret);
        }
    }

    /** A secret that looks like a SCRAM verifier must be one: no client could ever log in against a broken one. */
    private void checkVerifier(String value) {
        if (value != null && ScramVerifier.isVerifier(value)) {
            try {
                ScramVerifier.parse(value);
            } catch (IllegalArgumentException e) {
                noteProblem("it returned a secret that is not a valid SCRAM-SHA-256 verifier: " + e.getMessage());
            }
        }
    }

    private void noteProblem(String text) {
        if (problem == null) {
            problem = text;
        }
    }

    private void onReady(TransactionStatus status) {
        ServerConnection done = server;
        server = null;
        done.detach();
        // The query cannot leave a transaction open unless it is not a query at all; such a server is not reused.
        pool.release(done, status == TransactionStatus.IDLE ? null : CloseReason.DIRTY);
        if (problem != null) {
            fail(problem);
            return;
        }
        finish();
        Optional<String> found = Optional.ofNullable(secret).filter(s -> !s.isEmpty());
        log.debug(
                "auth.query for user \"{}\" on pool {}: {}",
                user,
                pool.key(),
                found.isPresent() ? "found" : "no secret");
        result.trySuccess(found);
    }

    @Override
    public void onServerLost(ServerConnection from, String cause) {
        if (from != server) {
            return;
        }
        // The pool drops a lost server by itself.
        server = null;
        fail("server connection lost: " + cause);
    }

    private void onDeadline(Duration timeout) {
        if (phase == Phase.DONE) {
            return;
        }
        if (phase == Phase.WAITING) {
            pool.cancelWait(this); // when a server is on its way already, granted gives it back
        } else {
            ServerConnection abandoned = server;
            server = null;
            abandoned.detach();
            // PostgreSQL would run the query to its end despite the close: cancel it first. Mid-query, the server's
            // state is unknown, so it is closed rather than reused.
            abandoned.backendKey().ifPresent(key -> connector.cancel(loop, abandoned.remoteAddress(), key));
            pool.release(abandoned, CloseReason.DIRTY);
        }
        fail("no answer within " + DurationFormat.of(timeout) + " (pool.client-login-timeout)");
    }

    private void fail(String cause) {
        if (phase == Phase.DONE) {
            return;
        }
        finish();
        PgmuxException error = new PgmuxException(
                SqlState.CONNECTION_FAILURE,
                "auth.query for user \"%s\" failed on pool %s: %s",
                user,
                pool.key(),
                cause);
        log.warn("{}", error.getMessage());
        result.tryFailure(error);
    }

    private void finish() {
        phase = Phase.DONE;
        if (deadline != null) {
            deadline.cancel(false);
        }
    }
}
