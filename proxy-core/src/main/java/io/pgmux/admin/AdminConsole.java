package io.pgmux.admin;

import io.netty.channel.Channel;
import io.pgmux.metrics.PgmuxMetrics;
import io.pgmux.pool.PoolRegistry;
import io.pgmux.protocol.Frame;
import io.pgmux.protocol.MessageType;
import io.pgmux.protocol.PgmuxException;
import io.pgmux.protocol.ProtocolException;
import io.pgmux.protocol.Severity;
import io.pgmux.protocol.SqlState;
import io.pgmux.protocol.message.BackendKeyData;
import io.pgmux.protocol.message.Bind;
import io.pgmux.protocol.message.BindComplete;
import io.pgmux.protocol.message.Close;
import io.pgmux.protocol.message.CloseComplete;
import io.pgmux.protocol.message.CommandComplete;
import io.pgmux.protocol.message.Describe;
import io.pgmux.protocol.message.ErrorResponse;
import io.pgmux.protocol.message.Execute;
import io.pgmux.protocol.message.Message;
import io.pgmux.protocol.message.NoData;
import io.pgmux.protocol.message.ParameterStatus;
import io.pgmux.protocol.message.Parse;
import io.pgmux.protocol.message.ParseComplete;
import io.pgmux.protocol.message.PortalSuspended;
import io.pgmux.protocol.message.Query;
import io.pgmux.protocol.message.ReadyForQuery;
import io.pgmux.protocol.message.RowDescription;
import io.pgmux.protocol.message.RowDescription.Column;
import io.pgmux.protocol.message.TargetKind;
import io.pgmux.protocol.message.TransactionStatus;
import io.pgmux.protocol.message.Wire;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One admin client's console: answers the simple Query and the extended protocol (Parse/Bind/Describe/Execute/Sync)
 * with RowDescription/DataRow/CommandComplete built from snapshots (PgBouncer's column names). Portals live as in
 * PostgreSQL: an Execute with a row limit sends that many rows and PortalSuspended, the next Execute goes on; outside
 * a BEGIN block every portal ends at Sync (the end of the implicit transaction), inside one at COMMIT or ROLLBACK.
 * Touched only on the client's event loop; it writes to the client channel itself.
 */
public final class AdminConsole {
    private static final Logger log = LoggerFactory.getLogger(AdminConsole.class);

    private final Channel channel;
    private final String name;
    private final AdminViews views;
    private final PoolRegistry registry;
    /** What SHUTDOWN, RELOAD and KILL ask of the pgmux this console belongs to. */
    private final AdminActions actions;
    /** Ends the client's session (FATAL, closed) for a malformed message, as any session does. */
    private final Consumer<ProtocolException> violation;
    /**
     * Messages that arrived while a command (PAUSE, RELOAD) was still running: answered in order once it is done, so
     * that nothing (a Sync's ReadyForQuery) overtakes its answer. Reading stops meanwhile, so they are at most one
     * read's worth.
     */
    private final ArrayDeque<Frame> held = new ArrayDeque<>();

    private boolean running;
    /** Prepared statements by name ("" is the unnamed one): their SQL. */
    private final Map<String, String> statements = new HashMap<>();
    /** Portals by name ("" is the unnamed one). */
    private final Map<String, AdminPortal> portals = new HashMap<>();
    /**
     * {@link TransactionStatus#IN_TRANSACTION} between BEGIN and COMMIT/ROLLBACK, else {@link TransactionStatus#IDLE};
     * never {@link TransactionStatus#FAILED}: an error aborts nothing here, the block goes on.
     */
    private TransactionStatus transaction = TransactionStatus.IDLE;
    /** An error in an extended-protocol batch: messages are ignored up to Sync, as PostgreSQL does. */
    private boolean skipUntilSync;

    /**
     * A console for the client on {@code channel}; {@code violation} ends that client's session when it sends a
     * malformed message.
     */
    public AdminConsole(
            Channel channel,
            String name,
            PoolRegistry registry,
            PgmuxMetrics metrics,
            AdminActions actions,
            Consumer<ProtocolException> violation) {
        this.channel = channel;
        this.name = name;
        this.views = new AdminViews(registry, metrics);
        this.registry = registry;
        this.actions = Objects.requireNonNull(actions, "actions");
        this.violation = violation;
    }

    /** The client went away: messages still held are released. */
    public void close() {
        running = false;
        held.forEach(Frame::release);
        held.clear();
    }

    /** Ends the login: the parameters a client expects, the cancel key, ReadyForQuery. */
    public void start(Map<String, String> startupParameters, BackendKeyData cancelKey) {
        write(new ParameterStatus("server_version", AdminViews.VERSION.substring("pgmux ".length())));
        write(new ParameterStatus("server_encoding", "UTF8"));
        write(new ParameterStatus("client_encoding", "UTF8"));
        write(new ParameterStatus("DateStyle", "ISO"));
        write(new ParameterStatus("integer_datetimes", "on"));
        write(new ParameterStatus("standard_conforming_strings", "on"));
        write(new ParameterStatus("TimeZone", "UTC"));
        write(new ParameterStatus("application_name", startupParameters.getOrDefault("application_name", "")));
        write(cancelKey);
        write(ReadyForQuery.IDLE);
        channel.flush();
    }

    /** A message from the client (never Terminate); the frame is released here. */
    public void onFrame(Frame frame) {
        if (running) {
            held.add(frame);
            return;
        }
        byte type = frame.type();
        try {
            if (skipUntilSync && type != MessageType.Frontend.SYNC) {
                return;
            }
            switch (type) {
                case MessageType.Frontend.QUERY ->
                    onQuery(Query.decode(frame.body()).sql());
                case MessageType.Frontend.PARSE -> {
                    Parse parse = Parse.decode(frame.body());
                    statements.put(parse.name(), parse.sql());
                    write(ParseComplete.INSTANCE);
                }
                case MessageType.Frontend.BIND -> onBind(Bind.decode(frame.body()));
                case MessageType.Frontend.DESCRIBE -> onDescribe(Describe.decode(frame.body()));
                case MessageType.Frontend.EXECUTE -> onExecute(Execute.decode(frame.body()));
                case MessageType.Frontend.CLOSE -> {
                    Close close = Close.decode(frame.body());
                    (close.kind() == TargetKind.STATEMENT ? statements : portals).remove(close.name());
                    write(CloseComplete.INSTANCE);
                }
                case MessageType.Frontend.SYNC -> {
                    skipUntilSync = false;
                    writeReadyForQuery();
                }
                case MessageType.Frontend.FLUSH -> {}
                default ->
                    throw new PgmuxException(
                            SqlState.FEATURE_NOT_SUPPORTED,
                            "message type %s is not supported by the admin console",
                            MessageType.describe(type));
            }
        } catch (RuntimeException e) {
            fail(type, e);
        } finally {
            frame.release();
            channel.flush();
        }
    }

    /**
     * Answers a failed message: ERROR, then ReadyForQuery for a Query or skipping to Sync in a batch. A malformed
     * message instead ends the session (08P01, FATAL), as it does for any client.
     */
    private void fail(byte type, RuntimeException e) {
        if (e instanceof ProtocolException malformed) {
            close();
            String message = malformed.getMessage();
            violation.accept(new ProtocolException(
                    message.startsWith("invalid ")
                            ? message
                            : "invalid " + messageName(type) + " message: " + message));
            return;
        }
        PgmuxException error;
        if (e instanceof PgmuxException p) {
            error = p;
        } else {
            log.error("admin console {} failed", name, e);
            error = new PgmuxException(SqlState.INTERNAL_ERROR, "internal error in pgmux: %s", e);
        }
        writeError(error);
        if (type == MessageType.Frontend.QUERY) {
            writeReadyForQuery();
        } else if (type != MessageType.Frontend.SYNC) {
            skipUntilSync = true;
        }
    }

    private void onQuery(String sql) {
        CompletableFuture<AdminTable> pending = runLater(sql);
        if (pending != null) {
            answerWhenDone(pending, MessageType.Frontend.QUERY, table -> {
                writeQueryResult(table);
                writeReadyForQuery();
            });
            return;
        }
        AdminTable table = run(sql);
        if (table == null) {
            writeEmptyQuery();
        } else {
            writeQueryResult(table);
        }
        writeReadyForQuery();
        afterCommand(sql);
    }

    /** The whole answer to a simple Query's command: RowDescription for a result set, every row, CommandComplete. */
    private void writeQueryResult(AdminTable table) {
        if (table.hasResult()) {
            write(new RowDescription(table.columns()));
        }
        writeRows(table, table.rows(), new short[0]);
        writeCommandComplete(table, table.rows().size());
    }

    /**
     * ReadyForQuery with the transaction status. Outside a BEGIN block this ends the implicit transaction, and every
     * portal with it, as in PostgreSQL.
     */
    private void writeReadyForQuery() {
        if (transaction == TransactionStatus.IDLE) {
            portals.clear();
        }
        write(new ReadyForQuery(transaction));
    }

    private void onBind(Bind bind) {
        String sql = statements.get(bind.statement());
        if (sql == null) {
            throw new PgmuxException(
                    SqlState.INVALID_SQL_STATEMENT_NAME, "prepared statement \"%s\" does not exist", bind.statement());
        }
        portals.put(bind.portal(), new AdminPortal(sql, bind.resultFormats()));
        write(BindComplete.INSTANCE);
    }

    private void onDescribe(Describe describe) {
        String sql;
        short[] formats;
        if (describe.kind() == TargetKind.STATEMENT) {
            sql = statements.get(describe.name());
            formats = new short[0];
            if (sql == null) {
                throw new PgmuxException(
                        SqlState.INVALID_SQL_STATEMENT_NAME,
                        "prepared statement \"%s\" does not exist",
                        describe.name());
            }
            write(out -> {
                int at = Wire.begin(out, MessageType.Backend.PARAMETER_DESCRIPTION);
                out.writeShort(0);
                Wire.end(out, at);
            });
        } else {
            AdminPortal portal = portals.get(describe.name());
            if (portal == null) {
                throw new PgmuxException(SqlState.INVALID_CURSOR_NAME, "portal \"%s\" does not exist", describe.name());
            }
            sql = portal.sql();
            formats = portal.resultFormats();
        }
        List<Column> columns = describeOnly(sql);
        if (columns.isEmpty()) {
            write(NoData.INSTANCE);
        } else {
            write(new RowDescription(withFormats(columns, formats)));
        }
    }

    /**
     * Runs the portal's command, or for a SHOW that already ran in it, sends the next rows of that snapshot: at most
     * {@code maxRows} of them, then PortalSuspended when the limit was reached (even with no row left, as PostgreSQL
     * does), else CommandComplete.
     */
    private void onExecute(Execute execute) {
        AdminPortal portal = portals.get(execute.portal());
        if (portal == null) {
            throw new PgmuxException(SqlState.INVALID_CURSOR_NAME, "portal \"%s\" does not exist", execute.portal());
        }
        if (portal.result().isPresent()) {
            writeBatch(portal, execute.maxRows());
            return;
        }
        CompletableFuture<AdminTable> pending = runLater(portal.sql());
        if (pending != null) {
            answerWhenDone(
                    pending, MessageType.Frontend.EXECUTE, table -> answerExecute(portal, table, execute.maxRows()));
            return;
        }
        AdminTable table = run(portal.sql());
        if (table == null) {
            writeEmptyQuery();
            return;
        }
        answerExecute(portal, table, execute.maxRows());
        afterCommand(portal.sql());
    }

    /** The first answer of {@code portal}: a result set is kept in the portal, for the Executes that read on. */
    private void answerExecute(AdminPortal portal, AdminTable table, int maxRows) {
        if (table.hasResult()) {
            portal.open(table);
            writeBatch(portal, maxRows);
        } else {
            writeCommandComplete(table, 0);
        }
    }

    private void writeBatch(AdminPortal portal, int maxRows) {
        AdminTable table = portal.result().orElseThrow();
        List<List<Object>> batch = portal.fetch(maxRows);
        writeRows(table, batch, portal.resultFormats());
        if (maxRows > 0 && batch.size() == maxRows) {
            write(PortalSuspended.INSTANCE);
        } else {
            writeCommandComplete(table, batch.size());
        }
    }

    /** The columns a statement would return, without running it (SHUTDOWN is not run to be described). */
    private List<Column> describeOnly(String sql) {
        Optional<AdminCommand> command = AdminCommand.parse(sql);
        if (command.isPresent() && command.get() instanceof AdminCommand.Show show) {
            return views.columns(show.what()).orElseThrow(() -> unsupported(sql));
        }
        if (command.isEmpty()) {
            throw unsupported(sql);
        }
        return List.of();
    }

    /**
     * Starts a command that answers later (SHOW CLIENTS/SERVERS ask every event loop, PAUSE waits for the servers,
     * RELOAD reads files off the loop); null for
     * every other command.
     */
    private CompletableFuture<AdminTable> runLater(String sql) {
        AdminCommand command = AdminCommand.parse(sql).orElse(null);
        if (command instanceof AdminCommand.Show show) {
            return views.showLater(show.what());
        }
        if (command instanceof AdminCommand.Pause pause) {
            log.info("admin console {}: PAUSE {}", name, pause.database().orElse("(all)"));
            return registry.pause(pause.database(), channel.eventLoop()).thenApply(done -> AdminTable.command("PAUSE"));
        }
        if (command instanceof AdminCommand.Reload) {
            log.info("admin console {}: RELOAD", name);
            return actions.reload().thenApply(done -> AdminTable.command("RELOAD"));
        }
        return null;
    }

    /**
     * Holds the client's further messages until {@code pending} is done, then writes its answer (or its error) on the
     * client's loop and goes on with the messages held meanwhile.
     */
    private void answerWhenDone(CompletableFuture<AdminTable> pending, byte type, Consumer<AdminTable> answer) {
        running = true;
        // PAUSE may wait long: read no more than what already came, so that held messages stay few.
        channel.config().setAutoRead(false);
        pending.whenComplete((table, error) -> channel.eventLoop().execute(() -> {
            if (!running) {
                return; // the client left meanwhile
            }
            running = false;
            if (error == null) {
                answer.accept(table);
            } else {
                Throwable cause =
                        error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
                fail(
                        type,
                        cause instanceof RuntimeException r
                                ? r
                                : new PgmuxException(SqlState.INTERNAL_ERROR, "internal error in pgmux: %s", cause));
            }
            channel.flush();
            while (!running && !held.isEmpty()) {
                onFrame(held.poll());
            }
            if (!running) {
                channel.config().setAutoRead(true);
            }
        }));
    }

    /** Runs a command that answers at once; null for an empty query. */
    private AdminTable run(String sql) {
        AdminCommand command = AdminCommand.parse(sql).orElseThrow(() -> unsupported(sql));
        if (command instanceof AdminCommand.Show show) {
            return views.show(show.what()).orElseThrow(() -> unsupported(sql));
        }
        if (command instanceof AdminCommand.Set) {
            return AdminTable.command("SET");
        }
        if (command instanceof AdminCommand.Begin) {
            transaction = TransactionStatus.IN_TRANSACTION;
            return AdminTable.command("BEGIN");
        }
        if (command instanceof AdminCommand.Commit || command instanceof AdminCommand.Rollback) {
            transaction = TransactionStatus.IDLE;
            portals.clear();
            return AdminTable.command(command instanceof AdminCommand.Commit ? "COMMIT" : "ROLLBACK");
        }
        if (command instanceof AdminCommand.Shutdown) {
            return AdminTable.command("SHUTDOWN");
        }
        if (command instanceof AdminCommand.Resume resume) {
            log.info("admin console {}: RESUME {}", name, resume.database().orElse("(all)"));
            registry.resume(resume.database(), channel.eventLoop());
            return AdminTable.command("RESUME");
        }
        if (command instanceof AdminCommand.Reconnect reconnect) {
            log.info(
                    "admin console {}: RECONNECT {}", name, reconnect.database().orElse("(all)"));
            registry.reconnect(reconnect.database(), channel.eventLoop());
            return AdminTable.command("RECONNECT");
        }
        if (command instanceof AdminCommand.Kill kill) {
            log.info("admin console {}: KILL {}", name, kill.database());
            registry.kill(kill.database(), channel.eventLoop());
            actions.killClients(kill.database());
            return AdminTable.command("KILL");
        }
        return null;
    }

    /** After a command's answer is written: SHUTDOWN starts draining pgmux on a thread of its own. */
    private void afterCommand(String sql) {
        if (AdminCommand.parse(sql).orElse(null) instanceof AdminCommand.Shutdown) {
            log.info("admin console {}: SHUTDOWN", name);
            channel.flush();
            Thread drain = new Thread(actions::shutdown, "pgmux-admin-shutdown");
            drain.setDaemon(false);
            drain.start();
        }
    }

    private static PgmuxException unsupported(String sql) {
        return new PgmuxException(SqlState.SYNTAX_ERROR, "unsupported admin command: %s", sql.strip());
    }

    // ---- writing ----------------------------------------------------------------------------------

    /** DataRows of {@code rows}, which are {@code table}'s or some of them. */
    private void writeRows(AdminTable table, List<List<Object>> rows, short[] formats) {
        int columns = table.columns().size();
        for (List<Object> row : rows) {
            write(out -> {
                int at = Wire.begin(out, MessageType.Backend.DATA_ROW);
                out.writeShort(columns);
                for (int i = 0; i < columns; i++) {
                    Object value = row.get(i);
                    if (value == null) {
                        out.writeInt(-1);
                    } else if (value instanceof Long number && format(formats, i) == 1) {
                        out.writeInt(8).writeLong(number);
                    } else {
                        byte[] bytes = value.toString().getBytes(StandardCharsets.UTF_8);
                        out.writeInt(bytes.length).writeBytes(bytes);
                    }
                }
                Wire.end(out, at);
            });
        }
    }

    /**
     * CommandComplete with the table's tag; a result set other than SHOW's adds the rows sent by this Execute (the
     * last batch only, as PostgreSQL counts).
     */
    private void writeCommandComplete(AdminTable table, int rowsSent) {
        String tag = table.tag();
        write(new CommandComplete(table.hasResult() && !tag.equals("SHOW") ? tag + " " + rowsSent : tag));
    }

    /** Binary (1) is honoured for int8 columns only; text columns are always sent as text. */
    private static List<Column> withFormats(List<Column> columns, short[] formats) {
        List<Column> out = new ArrayList<>(columns.size());
        for (int i = 0; i < columns.size(); i++) {
            Column c = columns.get(i);
            short format = c.typeOid() == RowDescription.INT8_OID ? format(formats, i) : 0;
            out.add(new Column(
                    c.name(), c.tableOid(), c.attributeNumber(), c.typeOid(), c.typeSize(), c.typeModifier(), format));
        }
        return out;
    }

    private static short format(short[] formats, int column) {
        if (formats.length == 0) {
            return 0;
        }
        return formats.length == 1 ? formats[0] : column < formats.length ? formats[column] : 0;
    }

    /** The name of a message type the console answers, for error messages. */
    private static String messageName(byte type) {
        return switch (type) {
            case MessageType.Frontend.QUERY -> "Query";
            case MessageType.Frontend.PARSE -> "Parse";
            case MessageType.Frontend.BIND -> "Bind";
            case MessageType.Frontend.DESCRIBE -> "Describe";
            case MessageType.Frontend.EXECUTE -> "Execute";
            case MessageType.Frontend.CLOSE -> "Close";
            default -> MessageType.describe(type);
        };
    }

    private void writeEmptyQuery() {
        write(out -> Wire.writeEmpty(out, MessageType.Backend.EMPTY_QUERY_RESPONSE));
    }

    private void writeError(PgmuxException e) {
        write(ErrorResponse.of(Severity.ERROR, e.sqlState(), e.getMessage()));
    }

    private void write(Message message) {
        channel.write(message.toByteBuf(channel.alloc()), channel.voidPromise());
    }
}
