package io.pgmux;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * A bare-bones PostgreSQL protocol client on a plain socket, written here rather than borrowed from pgmux, for what
 * pgjdbc will not do: stop in the middle of an extended-protocol batch, or vanish with a TCP reset. It logs in with a
 * cleartext password ({@code auth.type = plain}) or none ({@code trust}).
 */
final class RawClient implements AutoCloseable {
    private final Socket socket;
    private final DataInputStream in;
    private final DataOutputStream out;

    private RawClient(Socket socket) throws IOException {
        this.socket = socket;
        this.in = new DataInputStream(socket.getInputStream());
        this.out = new DataOutputStream(socket.getOutputStream());
    }

    /** Connects and logs in; returns after the first ReadyForQuery. */
    static RawClient login(int port, String database, String user, String password) throws IOException {
        Socket socket = new Socket();
        socket.connect(new InetSocketAddress("127.0.0.1", port), 10_000);
        socket.setSoTimeout(30_000);
        RawClient client = new RawClient(socket);
        try {
            ByteArrayOutputStream body = new ByteArrayOutputStream();
            DataOutputStream b = new DataOutputStream(body);
            b.writeInt(3 << 16);
            cstring(b, "user");
            cstring(b, user);
            cstring(b, "database");
            cstring(b, database);
            b.writeByte(0);
            client.out.writeInt(body.size() + 4);
            body.writeTo(client.out);
            client.out.flush();
            while (true) {
                Message m = client.read();
                if (m.type() == 'R' && m.intAt(0) == 3) {
                    client.send('p', cstringBytes(password));
                    client.out.flush();
                } else if (m.type() == 'R' && m.intAt(0) != 0) {
                    throw new IOException(
                            "RawClient speaks only cleartext passwords, got authentication request " + m.intAt(0));
                } else if (m.type() == 'E') {
                    throw new IOException("login failed: " + m.text());
                } else if (m.type() == 'Z') {
                    return client;
                }
            }
        } catch (IOException | RuntimeException e) {
            socket.close();
            throw e;
        }
    }

    /** Sends a simple Query and reads up to its ReadyForQuery; returns the transaction status there. */
    char query(String sql) throws IOException {
        send('Q', cstringBytes(sql));
        out.flush();
        while (true) {
            Message m = read();
            if (m.type() == 'Z') {
                return (char) m.body()[0];
            }
        }
    }

    /** Sends Parse, Bind and Execute of an unnamed statement, then Flush, and no Sync: the batch stays open. */
    void executeWithoutSync(String sql) throws IOException {
        ByteArrayOutputStream parse = new ByteArrayOutputStream();
        DataOutputStream p = new DataOutputStream(parse);
        cstring(p, "");
        cstring(p, sql);
        p.writeShort(0);
        send('P', parse.toByteArray());
        ByteArrayOutputStream bind = new ByteArrayOutputStream();
        DataOutputStream b = new DataOutputStream(bind);
        cstring(b, "");
        cstring(b, "");
        b.writeShort(0);
        b.writeShort(0);
        b.writeShort(0);
        send('B', bind.toByteArray());
        ByteArrayOutputStream execute = new ByteArrayOutputStream();
        DataOutputStream e = new DataOutputStream(execute);
        cstring(e, "");
        e.writeInt(0);
        send('E', execute.toByteArray());
        send('H', new byte[0]);
        out.flush();
        // ParseComplete, BindComplete, CommandComplete: the statement ran, its transaction is still open.
        while (read().type() != 'C') {
            // skip what comes before CommandComplete
        }
    }

    /** Drops the connection with a TCP reset and no Terminate, as a crashed client does. */
    void reset() throws IOException {
        socket.setSoLinger(true, 0);
        socket.close();
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }

    private void send(char type, byte[] body) throws IOException {
        out.writeByte(type);
        out.writeInt(body.length + 4);
        out.write(body);
    }

    private Message read() throws IOException {
        char type = (char) in.readUnsignedByte();
        int length = in.readInt();
        byte[] body = new byte[length - 4];
        in.readFully(body);
        return new Message(type, body);
    }

    private static void cstring(DataOutputStream out, String s) throws IOException {
        out.write(cstringBytes(s));
    }

    private static byte[] cstringBytes(String s) {
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        byte[] out = new byte[bytes.length + 1];
        System.arraycopy(bytes, 0, out, 0, bytes.length);
        return out;
    }

    private record Message(char type, byte[] body) {
        int intAt(int offset) {
            return ((body[offset] & 0xff) << 24)
                    | ((body[offset + 1] & 0xff) << 16)
                    | ((body[offset + 2] & 0xff) << 8)
                    | (body[offset + 3] & 0xff);
        }

        /** The fields of an ErrorResponse, readable enough for a failure message. */
        String text() {
            return new String(body, StandardCharsets.UTF_8).replace('\0', ' ').trim();
        }
    }
}
