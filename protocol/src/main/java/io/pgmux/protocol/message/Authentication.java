package io.pgmux.protocol.message;

import io.netty.buffer.ByteBuf;
import io.pgmux.protocol.MessageType;
import io.pgmux.protocol.ProtocolException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** The server's authentication requests and outcome ('R'), told apart by a code. */
public sealed interface Authentication extends BackendMessage {
    int OK = 0;
    int CLEARTEXT_PASSWORD = 3;
    int MD5_PASSWORD = 5;
    int SASL = 10;
    int SASL_CONTINUE = 11;
    int SASL_FINAL = 12;

    static Authentication decode(ByteBuf body) {
        int code = Wire.readInt(body);
        return switch (code) {
            case OK -> withoutTrailingBytes(body, new Ok());
            case CLEARTEXT_PASSWORD -> withoutTrailingBytes(body, new CleartextPassword());
            case MD5_PASSWORD -> withoutTrailingBytes(body, new Md5Password(Wire.readBytes(body, 4)));
            case SASL -> withoutTrailingBytes(body, Sasl.decodeMechanisms(body));
            case SASL_CONTINUE -> new SaslContinue(readRest(body));
            case SASL_FINAL -> new SaslFinal(readRest(body));
            default -> new Unsupported(code);
        };
    }

    private static Authentication withoutTrailingBytes(ByteBuf body, Authentication decoded) {
        Wire.expectEnd(body, "Authentication");
        return decoded;
    }

    private static String readRest(ByteBuf body) {
        return body.readCharSequence(body.readableBytes(), StandardCharsets.UTF_8)
                .toString();
    }

    private static int begin(ByteBuf out, int code) {
        int lengthIndex = Wire.begin(out, MessageType.Backend.AUTHENTICATION);
        out.writeInt(code);
        return lengthIndex;
    }

    /** Authentication succeeded. */
    record Ok() implements Authentication {
        @Override
        public void encode(ByteBuf out) {
            Wire.end(out, begin(out, OK));
        }
    }

    /** The server wants the password in clear text. */
    record CleartextPassword() implements Authentication {
        @Override
        public void encode(ByteBuf out) {
            Wire.end(out, begin(out, CLEARTEXT_PASSWORD));
        }
    }

    /** The server wants an MD5 hash of the password salted with these four bytes. */
    record Md5Password(byte[] salt) implements Authentication {
        public Md5Password {
            if (salt.length != 4) {
                throw new IllegalArgumentException("MD5 salt must be 4 bytes");
            }
            salt = salt.clone();
        }

        @Override
        public byte[] salt() {
            return salt.clone();
        }

        @Override
        public void encode(ByteBuf out) {
            int lengthIndex = begin(out, MD5_PASSWORD);
            out.writeBytes(salt);
            Wire.end(out, lengthIndex);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Md5Password m && java.util.Arrays.equals(m.salt, salt);
        }

        @Override
        public int hashCode() {
            return java.util.Arrays.hashCode(salt);
        }

        @Override
        public String toString() {
            return "Md5Password";
        }
    }

    /** The server offers these SASL mechanisms. */
    record Sasl(List<String> mechanisms) implements Authentication {
        public Sasl {
            mechanisms = List.copyOf(mechanisms);
        }

        static Sasl decodeMechanisms(ByteBuf body) {
            List<String> mechanisms = new ArrayList<>();
            while (true) {
                String mechanism = Wire.readCString(body);
                if (mechanism.isEmpty()) {
                    break;
                }
                mechanisms.add(mechanism);
            }
            if (mechanisms.isEmpty()) {
                throw new ProtocolException("invalid AuthenticationSASL: no mechanisms");
            }
            return new Sasl(mechanisms);
        }

        @Override
        public void encode(ByteBuf out) {
            int lengthIndex = begin(out, SASL);
            mechanisms.forEach(m -> Wire.writeCString(out, m));
            out.writeByte(0);
            Wire.end(out, lengthIndex);
        }
    }

    /** A SASL challenge (server-first-message for SCRAM). */
    record SaslContinue(String data) implements Authentication {
        @Override
        public void encode(ByteBuf out) {
            int lengthIndex = begin(out, SASL_CONTINUE);
            out.writeCharSequence(data, StandardCharsets.UTF_8);
            Wire.end(out, lengthIndex);
        }

        @Override
        public String toString() {
            return "SaslContinue";
        }
    }

    /** The SASL outcome (server-final-message for SCRAM). */
    record SaslFinal(String data) implements Authentication {
        @Override
        public void encode(ByteBuf out) {
            int lengthIndex = begin(out, SASL_FINAL);
            out.writeCharSequence(data, StandardCharsets.UTF_8);
            Wire.end(out, lengthIndex);
        }

        @Override
        public String toString() {
            return "SaslFinal";
        }
    }

    /** A method pgmux does not speak (Kerberos, GSS, SSPI). */
    record Unsupported(int code) implements Authentication {
        @Override
        public void encode(ByteBuf out) {
            Wire.end(out, begin(out, code));
        }
    }
}
