package io.pgmux.protocol;

/**
 * Type bytes of the protocol's typed messages. Frontend and backend reuse letters ('D' is Describe
 * one way and DataRow the other), so they are kept apart. See
 * https://www.postgresql.org/docs/current/protocol-message-formats.html
 */
public final class MessageType {
    private MessageType() {}

    /** Messages a client sends. */
    public static final class Frontend {
        private Frontend() {}

        public static final byte BIND = 'B';
        public static final byte CLOSE = 'C';
        public static final byte COPY_DATA = 'd';
        public static final byte COPY_DONE = 'c';
        public static final byte COPY_FAIL = 'f';
        public static final byte DESCRIBE = 'D';
        public static final byte EXECUTE = 'E';
        public static final byte FLUSH = 'H';
        public static final byte FUNCTION_CALL = 'F';
        public static final byte PARSE = 'P';
        /** PasswordMessage, SASLInitialResponse and SASLResponse share 'p'. */
        public static final byte PASSWORD = 'p';

        public static final byte QUERY = 'Q';
        public static final byte SYNC = 'S';
        public static final byte TERMINATE = 'X';

        /** True for every type a client may send after startup. */
        public static boolean isKnown(byte type) {
            return switch (type) {
                case BIND,
                        CLOSE,
                        COPY_DATA,
                        COPY_DONE,
                        COPY_FAIL,
                        DESCRIBE,
                        EXECUTE,
                        FLUSH,
                        FUNCTION_CALL,
                        PARSE,
                        PASSWORD,
                        QUERY,
                        SYNC,
                        TERMINATE -> true;
                default -> false;
            };
        }
    }

    /** Messages a server sends. */
    public static final class Backend {
        private Backend() {}

        public static final byte AUTHENTICATION = 'R';
        public static final byte BACKEND_KEY_DATA = 'K';
        public static final byte BIND_COMPLETE = '2';
        public static final byte CLOSE_COMPLETE = '3';
        public static final byte COMMAND_COMPLETE = 'C';
        public static final byte COPY_BOTH_RESPONSE = 'W';
        public static final byte COPY_DATA = 'd';
        public static final byte COPY_DONE = 'c';
        public static final byte COPY_IN_RESPONSE = 'G';
        public static final byte COPY_OUT_RESPONSE = 'H';
        public static final byte DATA_ROW = 'D';
        public static final byte EMPTY_QUERY_RESPONSE = 'I';
        public static final byte ERROR_RESPONSE = 'E';
        public static final byte FUNCTION_CALL_RESPONSE = 'V';
        public static final byte NEGOTIATE_PROTOCOL_VERSION = 'v';
        public static final byte NO_DATA = 'n';
        public static final byte NOTICE_RESPONSE = 'N';
        public static final byte NOTIFICATION_RESPONSE = 'A';
        public static final byte PARAMETER_DESCRIPTION = 't';
        public static final byte PARAMETER_STATUS = 'S';
        public static final byte PARSE_COMPLETE = '1';
        public static final byte PORTAL_SUSPENDED = 's';
        public static final byte READY_FOR_QUERY = 'Z';
        public static final byte ROW_DESCRIPTION = 'T';
    }

    /** A printable form of a type byte for logs, e.g. {@code 'Q' (0x51)}. */
    public static String describe(byte type) {
        if (type >= 0x20 && type < 0x7f) {
            return "'" + (char) type + "'";
        }
        return String.format("0x%02x", type & 0xff);
    }
}
