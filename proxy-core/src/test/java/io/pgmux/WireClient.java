package io.pgmux;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;

/**
 * A plain-socket client, written here rather than borrowed from pgmux, that sends whatever the test asks, well-formed
 * or not, and reads what comes back as typed protocol messages until the other side closes: for hostile input, and for
 * what pgjdbc will not do, such as stopping in the middle of an extended-protocol batch or vanishing with a TCP reset.
 * Every read is bounded by the socket timeout.
 */
final class WireClient implements AutoCloseable {
    /** How long any single read may block. */
    static final Duration READ_TIMEOUT = Duration.ofSeconds(10);

    private final Socket socket;
    private final DataInputStream in;
    private final DataOutputStream out;

    /** The body of the BackendKeyData pgmux sent at login (process id and secret). */
    private byte[] backendKey;

    private WireClient(Socket socket) throws IOException {
        this.socket = socket;
        this.in = new DataInputStream(socket.getInputStream());
        this.out = new DataOutputStream(socket.getOutputStream());
    }

    /** Connects to 127.0.0.1:{@code port} and sends nothing yet. */
    static WireClient connect(int port) throws IOException {
        Socket socket = new Socket();
        socket.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
        socket.setSoTimeout((int) READ_TIMEOUT.toMillis());
        socket.setTcpNoDelay(true);
        return new WireClient(socket);
    }

    /**
     * Connects and logs in with a cleartext password ({@code auth.type = plain}) or none ({@code trust}); returns after
     * ReadyForQuery.
     */
    static WireClient login(int port, String database, String user, String password) throws IOException {
        WireClient client = connect(port);
        try {
            return client.logIn(database, user, password);
        } catch (IOException | RuntimeException e) {
            client.close();
            throw e;
        }
    }

    /**
     * Logs in on this connection (plain, or after {@link #startTls}) with a cleartext password or none; returns it
     * after ReadyForQuery, with the BackendKeyData pgmux sent in {@link #cancelRequest()}.
     */
    WireClient logIn(String database, String user, String password) throws IOException {
        send(startup(3 << 16, Map.of("user", user, "database", database)));
        return readLogin(password);
    }

    /**
     * The first half of {@link #logIn} ({@code auth.type = plain}): sends the StartupMessage and answers the password
     * request. The rest, AuthenticationOk included, is for {@link #finishLogin}: pgmux sends it in one go, which for
     * clients waiting for their pool's first server is once the pool has one.
     */
    WireClient sendLogin(String database, String user, String password) throws IOException {
        send(startup(3 << 16, Map.of("user", user, "database", database)));
        Message m = read();
        if (m.type() != 'R' || m.intAt(0) != 3) {
            throw new IOException("expected a cleartext password request, got " + m);
        }
        sendTyped('p', cstring(password));
        return this;
    }

    /** The second half of {@link #logIn}, after {@link #sendLogin}: reads up to ReadyForQuery. */
    WireClient finishLogin() throws IOException {
        return readLogin(null);
    }

    /** Reads a login up to ReadyForQuery, answering a password request with {@code password}. */
    private WireClient readLogin(String password) throws IOException {
        while (true) {
            Message m = read();
            if (m.type() == 'R' && m.intAt(0) == 3 && password != null) {
                sendTyped('p', cstring(password));
            } else if (m.type() == 'R' && m.intAt(0) != 0) {
                throw new IOException("WireClient speaks only cleartext passwords, got " + m.intAt(0));
            } else if (m.type() == 'K') {
                backendKey = m.body();
            } else if (m.type() == 'E') {
                throw new IOException("login failed: " + m.fields());
            } else if (m.type() == 'Z') {
                return this;
            }
        }
    }

    /** A CancelRequest with the key pgmux gave this client at login. */
    byte[] cancelRequest() {
        if (backendKey == null) {
            throw new IllegalStateException("not logged in: no BackendKeyData yet");
        }
        return untyped(new Bytes().int32(80877102).bytes(backendKey).build());
    }

    /** A StartupMessage (length, version, name/value pairs, terminator). */
    static byte[] startup(int version, Map<String, String> parameters) {
        Bytes body = new Bytes().int32(version);
        new LinkedHashMap<>(parameters)
                .forEach((name, value) -> body.cstring(name).cstring(value));
        return untyped(body.int8(0).build());
    }

    /** An untyped packet: its length (itself included), then {@code body}. */
    static byte[] untyped(byte[] body) {
        return new Bytes().int32(body.length + 4).bytes(body).build();
    }

    /** A typed message: type, length (itself included), body. */
    static byte[] typed(char type, byte[] body) {
        return new Bytes().int8(type).int32(body.length + 4).bytes(body).build();
    }

    static byte[] cstring(String s) {
        return new Bytes().cstring(s).build();
    }

    /** Writes raw bytes and flushes. */
    void send(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    void sendTyped(char type, byte[] body) throws IOException {
        send(typed(type, body));
    }

    /** Sends a simple Query. */
    void query(String sql) throws IOException {
        sendTyped('Q', cstring(sql));
    }

    /** Sends Parse of {@code sql} as the prepared statement {@code statement} ("" is the unnamed one). */
    void parse(String statement, String sql) throws IOException {
        sendTyped('P', new Bytes().cstring(statement).cstring(sql).int16(0).build());
    }

    /** Sends Bind of {@code statement} to {@code portal}: no parameters, every result column as text. */
    void bind(String portal, String statement) throws IOException {
        sendTyped(
                'B',
                new Bytes()
                        .cstring(portal)
                        .cstring(statement)
                        .int16(0)
                        .int16(0)
                        .int16(0)
                        .build());
    }

    /** Sends Execute of {@code portal}, at most {@code maxRows} rows (0: all). */
    void execute(String portal, int maxRows) throws IOException {
        sendTyped('E', new Bytes().cstring(portal).int32(maxRows).build());
    }

    /** Sends Sync and reads what the batch got, up to and including its ReadyForQuery. */
    List<Message> sync() throws IOException {
        sendTyped('S', new byte[0]);
        return readUntilReady();
    }

    /**
     * Sends Parse, Bind and Execute of an unnamed statement, then Flush and no Sync, so that the batch stays open;
     * returns once the statement ran (its CommandComplete).
     */
    void executeWithoutSync(String sql) throws IOException {
        parse("", sql);
        bind("", "");
        execute("", 0);
        sendTyped('H', new byte[0]);
        while (true) {
            Message m = read();
            if (m.type() == 'C') {
                return;
            }
            if (m.type() == 'E') {
                throw new AssertionError("the statement failed: " + m);
            }
        }
    }

    /** Reads up to and including the next ReadyForQuery; returns the messages read. */
    List<Message> readUntilReady() throws IOException {
        List<Message> messages = new ArrayList<>();
        while (true) {
            Message m = read();
            messages.add(m);
            if (m.type() == 'Z') {
                return messages;
            }
        }
    }

    /** Reads one untyped byte: the answer to an SSLRequest or GSSENCRequest. */
    char readAnswer() throws IOException {
        return (char) in.readUnsignedByte();
    }

    /** After an 'S': speaks TLS over this connection (handshake done) and returns the client to use from now on. */
    WireClient startTls(SSLSocketFactory factory) throws IOException {
        SSLSocket tls = (SSLSocket) factory.createSocket(socket, "127.0.0.1", socket.getPort(), true);
        tls.setSoTimeout((int) READ_TIMEOUT.toMillis());
        tls.startHandshake();
        return new WireClient(tls);
    }

    /** Reads one typed message. */
    Message read() throws IOException {
        char type = (char) in.readUnsignedByte();
        int length = in.readInt();
        if (length < 4 || length > 64 * 1024 * 1024) {
            throw new IOException("bad length " + length + " for message type " + type + " from pgmux");
        }
        byte[] body = new byte[length - 4];
        in.readFully(body);
        return new Message(type, body);
    }

    /** What pgmux sent until it closed the connection, and how it closed it. */
    record Ending(List<Message> messages, String how, long millis) {
        /** The ErrorResponses among the messages. */
        List<Message> errors() {
            return messages.stream().filter(m -> m.type() == 'E').toList();
        }

        /** The SQLSTATE of the only ErrorResponse; fails when there is not exactly one. */
        String sqlState() {
            List<Message> errors = errors();
            if (errors.size() != 1) {
                throw new AssertionError("expected one ErrorResponse, got " + this);
            }
            return errors.get(0).fields().get('C');
        }
    }

    /**
     * Reads messages until pgmux closes the connection (EOF or reset); fails when it is still open after {@code
     * deadline} or sends something that is not a protocol message.
     */
    Ending readUntilClosed(Duration deadline) throws IOException {
        long start = System.nanoTime();
        long end = start + deadline.toNanos();
        List<Message> messages = new ArrayList<>();
        while (true) {
            long left = (end - System.nanoTime()) / 1_000_000;
            if (left <= 0) {
                throw new AssertionError(
                        "pgmux did not close the connection within " + deadline + "; read " + messages);
            }
            socket.setSoTimeout((int) Math.max(1, left));
            try {
                messages.add(read());
            } catch (EOFException e) {
                return new Ending(messages, "closed", (System.nanoTime() - start) / 1_000_000);
            } catch (SocketTimeoutException e) {
                throw new AssertionError(
                        "pgmux did not close the connection within " + deadline + "; read " + messages, e);
            } catch (SocketException e) {
                // A reset: pgmux closed while bytes we sent were still unread on its side.
                return new Ending(messages, "reset (" + e.getMessage() + ")", (System.nanoTime() - start) / 1_000_000);
            }
        }
    }

    /** Closes our sending side only (TCP FIN), as a client that has nothing more to say. */
    void shutdownOutput() throws IOException {
        socket.shutdownOutput();
    }

    /** Drops the connection with a TCP reset, as a crashed client does. */
    void reset() throws IOException {
        socket.setSoLinger(true, 0);
        socket.close();
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }

    /** A typed message from pgmux. */
    record Message(char type, byte[] body) {
        int intAt(int offset) {
            return ((body[offset] & 0xff) << 24)
                    | ((body[offset + 1] & 0xff) << 16)
                    | ((body[offset + 2] & 0xff) << 8)
                    | (body[offset + 3] & 0xff);
        }

        /** The values of a DataRow, as text (null for NULL). */
        List<String> values() {
            if (type != 'D') {
                throw new AssertionError("not a DataRow: " + this);
            }
            int columns = ((body[0] & 0xff) << 8) | (body[1] & 0xff);
            List<String> values = new ArrayList<>(columns);
            int at = 2;
            for (int i = 0; i < columns; i++) {
                int length = intAt(at);
                at += 4;
                values.add(length < 0 ? null : new String(body, at, length, StandardCharsets.UTF_8));
                at += Math.max(length, 0);
            }
            return values;
        }

        /** The tag of a CommandComplete. */
        String tag() {
            if (type != 'C') {
                throw new AssertionError("not a CommandComplete: " + this);
            }
            return new String(body, 0, body.length - 1, StandardCharsets.UTF_8);
        }

        /** The transaction status a ReadyForQuery reports: 'I', 'T' or 'E'. */
        char transactionStatus() {
            if (type != 'Z') {
                throw new AssertionError("not a ReadyForQuery: " + this);
            }
            return (char) body[0];
        }

        /** The fields of an ErrorResponse or NoticeResponse by their code. */
        Map<Character, String> fields() {
            Map<Character, String> fields = new LinkedHashMap<>();
            int i = 0;
            while (i < body.length && body[i] != 0) {
                char code = (char) body[i++];
                int startOfValue = i;
                while (i < body.length && body[i] != 0) {
                    i++;
                }
                fields.put(code, new String(body, startOfValue, i - startOfValue, StandardCharsets.UTF_8));
                i++;
            }
            return fields;
        }

        @Override
        public String toString() {
            return type == 'E' || type == 'N' ? type + fields().toString() : type + "(" + body.length + " bytes)";
        }
    }

    /** Builds protocol bytes by hand. */
    static final class Bytes {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();
        private final DataOutputStream data = new DataOutputStream(out);

        Bytes int8(int v) {
            out.write(v);
            return this;
        }

        Bytes int16(int v) {
            out.write(v >>> 8);
            out.write(v);
            return this;
        }

        Bytes int32(int v) {
            try {
                data.writeInt(v);
            } catch (IOException e) {
                throw new IllegalStateException(e); // a ByteArrayOutputStream does not fail
            }
            return this;
        }

        Bytes bytes(byte[] b) {
            out.writeBytes(b);
            return this;
        }

        Bytes cstring(String s) {
            out.writeBytes(s.getBytes(StandardCharsets.UTF_8));
            out.write(0);
            return this;
        }

        byte[] build() {
            return out.toByteArray();
        }
    }
}
