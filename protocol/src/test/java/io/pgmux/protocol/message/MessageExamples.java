package io.pgmux.protocol.message;

import io.netty.buffer.ByteBuf;
import io.pgmux.protocol.Severity;
import io.pgmux.protocol.SqlState;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Stream;

/** One or more sample values of every message record, with the decoder that reads each back. */
final class MessageExamples {
    private MessageExamples() {}

    /**
     * A sample message. {@code type} is the type byte, or 0 for an untyped startup packet.
     * {@code shortestBody} is the shortest body the decoder still accepts when the last field runs
     * to the end of the message (so shorter prefixes can be checked), or -1 when every field is
     * delimited and any truncation or trailing byte must be refused.
     */
    record Example(
            String name, Message message, char type, Function<ByteBuf, ? extends Message> decoder, int shortestBody) {
        boolean isDelimited() {
            return shortestBody < 0;
        }

        boolean isStartupPacket() {
            return type == 0;
        }

        @Override
        public String toString() {
            return name;
        }
    }

    static final byte[] KEY_4 = {0x12, 0x34, 0x56, 0x78};
    static final byte[] KEY_32 = bytes(32, 0x40);
    /** Parameter formats, values (one NULL) and result formats of a Bind, as a client sends them. */
    static final byte[] BIND_REST = {0, 1, 0, 0, 0, 2, 0, 0, 0, 2, '4', '2', -1, -1, -1, -1, 0, 1, 0, 1};

    static Map<Character, String> errorFields() {
        Map<Character, String> fields = new LinkedHashMap<>();
        fields.put('S', "ERROR");
        fields.put('V', "ERROR");
        fields.put('C', "42P01");
        fields.put('M', "relation \"missing\" does not exist");
        fields.put('P', "15");
        fields.put('q', "a field this version of pgmux does not know");
        fields.put('F', "parse_relation.c");
        fields.put('L', "1392");
        fields.put('R', "parserOpenTable");
        return fields;
    }

    static Map<String, String> startupParameters() {
        Map<String, String> parameters = new LinkedHashMap<>();
        parameters.put("user", "alice");
        parameters.put("database", "appdb");
        parameters.put("options", "-c search_path=app");
        parameters.put("application_name", "psql ✓");
        return parameters;
    }

    static Stream<Example> all() {
        return Stream.of(frontend(), startup(), backend()).flatMap(s -> s);
    }

    static Stream<Example> typed() {
        return all().filter(e -> !e.isStartupPacket());
    }

    static Stream<Example> startup() {
        return Stream.of(
                untyped("SSLRequest", SslRequest.INSTANCE, -1),
                untyped("GSSENCRequest", GssEncRequest.INSTANCE, -1),
                untyped("CancelRequest with 4-byte key", new CancelRequest(4242, KEY_4), 12),
                untyped("CancelRequest with 32-byte key", new CancelRequest(-1, KEY_32), 12),
                untyped("StartupMessage 3.0", new StartupMessage(StartupMessage.PROTOCOL_3_0, startupParameters()), -1),
                untyped(
                        "StartupMessage 3.2 without parameters",
                        new StartupMessage(StartupMessage.PROTOCOL_3_2, Map.of()),
                        -1));
    }

    static Stream<Example> frontend() {
        return Stream.of(
                new Example("Query", new Query("SELECT 'é', 1; SELECT 2"), 'Q', Query::decode, -1),
                new Example("empty Query", new Query(""), 'Q', Query::decode, -1),
                new Example(
                        "Parse with types", new Parse("s1", "SELECT $1, $2", List.of(23, 25)), 'P', Parse::decode, -1),
                new Example("unnamed Parse", new Parse("", "SELECT 1", List.of()), 'P', Parse::decode, -1),
                new Example(
                        "Parse with unspecified type",
                        new Parse("s2", "SELECT $1", List.of(0)),
                        'P',
                        Parse::decode,
                        -1),
                new Example(
                        "Bind",
                        new Bind("p1", "s1", BIND_REST),
                        'B',
                        Bind::decode,
                        "p1".length() + 1 + "s1".length() + 1),
                new Example("unnamed Bind", new Bind("", "", new byte[] {0, 0, 0, 0, 0, 0}), 'B', Bind::decode, 2),
                new Example("Describe statement", new Describe(TargetKind.STATEMENT, "s1"), 'D', Describe::decode, -1),
                new Example("Describe portal", new Describe(TargetKind.PORTAL, ""), 'D', Describe::decode, -1),
                new Example("Close statement", new Close(TargetKind.STATEMENT, "s1"), 'C', Close::decode, -1),
                new Example("Close portal", new Close(TargetKind.PORTAL, "p1"), 'C', Close::decode, -1),
                new Example("Execute", new Execute("p1", 100), 'E', Execute::decode, -1),
                new Example("Execute all rows", new Execute("", 0), 'E', Execute::decode, -1),
                new Example("CopyFail", new CopyFail("aborted by user"), 'f', CopyFail::decode, -1),
                new Example(
                        "PasswordMessage",
                        new PasswordMessage("md5a3556571e93b0d20722ba62be61e8c2d"),
                        'p',
                        PasswordMessage::decode,
                        -1),
                new Example(
                        "SaslInitialResponse",
                        new SaslInitialResponse("SCRAM-SHA-256", "n,,n=,r=rOprNGfwEbeRWgbNEkqO"),
                        'p',
                        SaslInitialResponse::decode,
                        -1),
                new Example(
                        "SaslResponse",
                        new SaslResponse(
                                "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="),
                        'p',
                        SaslResponse::decode,
                        0));
    }

    static Stream<Example> backend() {
        return Stream.of(
                auth("AuthenticationOk", new Authentication.Ok(), -1),
                auth("AuthenticationCleartextPassword", new Authentication.CleartextPassword(), -1),
                auth(
                        "AuthenticationMD5Password",
                        new Authentication.Md5Password(new byte[] {1, 2, (byte) 0xfe, (byte) 0xff}),
                        -1),
                auth("AuthenticationSASL", new Authentication.Sasl(List.of("SCRAM-SHA-256-PLUS", "SCRAM-SHA-256")), -1),
                auth(
                        "AuthenticationSASLContinue",
                        new Authentication.SaslContinue("r=abc,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"),
                        4),
                auth(
                        "AuthenticationSASLFinal",
                        new Authentication.SaslFinal("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="),
                        4),
                auth("AuthenticationGSS (unsupported)", new Authentication.Unsupported(7), 4),
                auth("AuthenticationSSPI (unsupported)", new Authentication.Unsupported(9), 4),
                new Example(
                        "ParameterStatus",
                        new ParameterStatus("TimeZone", "Europe/Zürich"),
                        'S',
                        ParameterStatus::decode,
                        -1),
                new Example(
                        "BackendKeyData with 4-byte key",
                        new BackendKeyData(4242, KEY_4),
                        'K',
                        BackendKeyData::decode,
                        8),
                new Example(
                        "BackendKeyData with 32-byte key",
                        new BackendKeyData(Integer.MAX_VALUE, KEY_32),
                        'K',
                        BackendKeyData::decode,
                        8),
                new Example("ReadyForQuery idle", ReadyForQuery.IDLE, 'Z', ReadyForQuery::decode, -1),
                new Example(
                        "ReadyForQuery in transaction",
                        new ReadyForQuery(TransactionStatus.IN_TRANSACTION),
                        'Z',
                        ReadyForQuery::decode,
                        -1),
                new Example(
                        "ReadyForQuery failed",
                        new ReadyForQuery(TransactionStatus.FAILED),
                        'Z',
                        ReadyForQuery::decode,
                        -1),
                new Example("ErrorResponse", new ErrorResponse(errorFields()), 'E', ErrorResponse::decode, -1),
                new Example(
                        "ErrorResponse.of",
                        ErrorResponse.of(
                                Severity.FATAL,
                                SqlState.TOO_MANY_CONNECTIONS,
                                "no more connections allowed (max_client_conn)"),
                        'E',
                        ErrorResponse::decode,
                        -1),
                new Example(
                        "NoticeResponse",
                        NoticeResponse.of(Severity.WARNING, "01000", "there is no transaction in progress"),
                        'N',
                        NoticeResponse::decode,
                        -1),
                new Example(
                        "RowDescription",
                        new RowDescription(List.of(
                                RowDescription.Column.text("database"),
                                RowDescription.Column.int8("cl_active"),
                                new RowDescription.Column(
                                        "id", 16384, (short) 1, RowDescription.INT4_OID, (short) 4, -1, (short) 1))),
                        'T',
                        RowDescription::decode,
                        -1),
                new Example("empty RowDescription", new RowDescription(List.of()), 'T', RowDescription::decode, -1),
                new Example(
                        "DataRow",
                        new DataRow(java.util.Arrays.asList("1", null, "Grüße, 世界 ✓", "")),
                        'D',
                        DataRow::decode,
                        -1),
                new Example("CommandComplete", new CommandComplete("SELECT 3"), 'C', CommandComplete::decode, -1),
                new Example(
                        "NegotiateProtocolVersion",
                        new NegotiateProtocolVersion(0, List.of("_pq_.compression", "_pq_.x")),
                        'v',
                        NegotiateProtocolVersion::decode,
                        -1),
                new Example(
                        "NegotiateProtocolVersion without options",
                        new NegotiateProtocolVersion(2, List.of()),
                        'v',
                        NegotiateProtocolVersion::decode,
                        -1));
    }

    /** The messages with no body, which have no decode: their type says everything. */
    static Stream<Example> bodiless() {
        return Stream.of(
                new Example("Sync", Sync.INSTANCE, 'S', null, -1),
                new Example("Flush", Flush.INSTANCE, 'H', null, -1),
                new Example("Terminate", Terminate.INSTANCE, 'X', null, -1),
                new Example("CopyDone", CopyDone.INSTANCE, 'c', null, -1),
                new Example("ParseComplete", ParseComplete.INSTANCE, '1', null, -1),
                new Example("BindComplete", BindComplete.INSTANCE, '2', null, -1),
                new Example("CloseComplete", CloseComplete.INSTANCE, '3', null, -1),
                new Example("NoData", NoData.INSTANCE, 'n', null, -1),
                new Example("PortalSuspended", PortalSuspended.INSTANCE, 's', null, -1));
    }

    private static Example auth(String name, Authentication message, int shortestBody) {
        return new Example(name, message, 'R', Authentication::decode, shortestBody);
    }

    private static Example untyped(String name, StartupPacket message, int shortestBody) {
        return new Example(name, message, (char) 0, StartupPacket::decode, shortestBody);
    }

    private static byte[] bytes(int length, int first) {
        byte[] bytes = new byte[length];
        for (int i = 0; i < length; i++) {
            bytes[i] = (byte) (first + i);
        }
        return bytes;
    }
}
