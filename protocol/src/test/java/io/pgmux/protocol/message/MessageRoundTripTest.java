package io.pgmux.protocol.message;

import static io.pgmux.protocol.WireBytes.body;
import static io.pgmux.protocol.WireBytes.typed;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.pgmux.protocol.Frame;
import io.pgmux.protocol.ProtocolException;
import io.pgmux.protocol.Severity;
import io.pgmux.protocol.SqlState;
import io.pgmux.protocol.codec.FrameDecoder;
import io.pgmux.protocol.message.MessageExamples.Example;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

class MessageRoundTripTest {

    static Stream<Example> typedExamples() {
        return MessageExamples.typed();
    }

    static Stream<Example> startupExamples() {
        return MessageExamples.startup();
    }

    static Stream<Example> bodilessExamples() {
        return MessageExamples.bodiless();
    }

    @Test
    void everyMessageRecordHasAnExample() {
        Set<Class<?>> records = new HashSet<>();
        collectRecords(FrontendMessage.class, records);
        collectRecords(BackendMessage.class, records);

        Set<Class<?>> covered = Stream.concat(MessageExamples.all(), MessageExamples.bodiless())
                .map(e -> e.message().getClass())
                .collect(Collectors.toSet());

        assertEquals(records, covered);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("typedExamples")
    void typedMessageDecodesToAnEqualRecord(Example example) {
        ByteBuf out = Unpooled.buffer();
        example.message().encode(out);

        assertEquals(example.type(), (char) out.getByte(0));
        assertEquals(out.readableBytes() - 1, out.getInt(1), "length field counts all but the type byte");
        ByteBuf body = out.slice(Frame.HEADER_LENGTH, out.readableBytes() - Frame.HEADER_LENGTH);
        assertEquals(example.message(), example.decoder().apply(body));
        assertFalse(body.isReadable(), "decode reads the whole body");
        assertTrue(out.release());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("startupExamples")
    void startupPacketDecodesToAnEqualRecord(Example example) {
        ByteBuf out = Unpooled.buffer();
        example.message().encode(out);

        assertEquals(out.readableBytes(), out.getInt(0), "length field counts the whole packet");
        ByteBuf body = out.slice(4, out.readableBytes() - 4);
        assertEquals(example.message(), example.decoder().apply(body));
        assertFalse(body.isReadable(), "decode reads the whole body");
        assertTrue(out.release());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("bodilessExamples")
    void bodilessMessageIsItsTypeAndLengthFour(Example example) throws ReflectiveOperationException {
        ByteBuf out = Unpooled.buffer();
        example.message().encode(out);

        assertArrayEquals(new byte[] {(byte) example.type(), 0, 0, 0, 4}, ByteBufUtil.getBytes(out));
        assertEquals(
                example.message(),
                example.message().getClass().getDeclaredConstructor().newInstance());
        assertTrue(out.release());
    }

    @Test
    void everyTypedMessageSurvivesFramingAndDecoding() {
        ByteBufAllocator alloc = PooledByteBufAllocator.DEFAULT;
        List<Example> examples = MessageExamples.typed().toList();
        ByteBuf wire = alloc.buffer();
        for (Example example : examples) {
            example.message().encode(wire);
        }
        EmbeddedChannel channel = new EmbeddedChannel(new FrameDecoder(1 << 16));

        assertTrue(channel.writeInbound(wire));

        List<Message> decoded = new ArrayList<>();
        for (Example example : examples) {
            Frame frame = channel.readInbound();
            assertEquals(example.type(), (char) frame.type(), example.name());
            decoded.add(example.decoder().apply(frame.body()));
            frame.release();
        }
        assertNull(channel.readInbound());
        assertEquals(examples.stream().map(Example::message).toList(), decoded);
        assertFalse(channel.finish());
        assertEquals(0, wire.refCnt());
    }

    @Test
    void toByteBufHandsTheCallerTheWholeMessage() {
        ByteBuf out = new Query("SELECT 1").toByteBuf(PooledByteBufAllocator.DEFAULT);

        assertArrayEquals(typed('Q', body().cstring("SELECT 1").build()), ByteBufUtil.getBytes(out));
        assertTrue(out.release());
    }

    @Test
    void authenticationVariantsCarryTheProtocolCodes() {
        assertEquals(0, authCode(new Authentication.Ok()));
        assertEquals(3, authCode(new Authentication.CleartextPassword()));
        assertEquals(5, authCode(new Authentication.Md5Password(new byte[4])));
        assertEquals(10, authCode(new Authentication.Sasl(List.of("SCRAM-SHA-256"))));
        assertEquals(11, authCode(new Authentication.SaslContinue("r=x")));
        assertEquals(12, authCode(new Authentication.SaslFinal("v=x")));
        assertEquals(7, authCode(new Authentication.Unsupported(7)));
    }

    @Test
    void authenticationSaslListsMechanismsAsTheServerSendsThem() {
        ByteBuf body = Unpooled.wrappedBuffer(body().int32(10)
                .cstring("SCRAM-SHA-256-PLUS")
                .cstring("SCRAM-SHA-256")
                .int8(0)
                .build());

        Authentication decoded = Authentication.decode(body);

        assertEquals(new Authentication.Sasl(List.of("SCRAM-SHA-256-PLUS", "SCRAM-SHA-256")), decoded);
        assertTrue(body.release());
    }

    @Test
    void md5SaltIsReadFromTheWire() {
        ByteBuf body = Unpooled.wrappedBuffer(
                body().int32(5).bytes(new byte[] {9, 8, 7, 6}).build());

        Authentication.Md5Password md5 = (Authentication.Md5Password) Authentication.decode(body);

        assertArrayEquals(new byte[] {9, 8, 7, 6}, md5.salt());
        assertTrue(body.release());
    }

    @Test
    void gssContinueDataIsSkippedAsUnsupported() {
        ByteBuf body = Unpooled.wrappedBuffer(
                body().int32(8).bytes(new byte[] {1, 2, 3}).build());

        assertEquals(new Authentication.Unsupported(8), Authentication.decode(body));
        assertTrue(body.release());
    }

    @Test
    void errorResponseKeepsUnknownFieldsInWireOrderAndReencodesByteForByte() {
        byte[] wire = body().int8('S')
                .cstring("FATAL")
                .int8('V')
                .cstring("FATAL")
                .int8('C')
                .cstring("28P01")
                .int8('q')
                .cstring("unknown one")
                .int8('M')
                .cstring("password authentication failed for user \"alice\"")
                .int8('!')
                .cstring("unknown two")
                .int8('R')
                .cstring("auth_failed")
                .int8(0)
                .build();
        ByteBuf body = Unpooled.wrappedBuffer(wire);

        ErrorResponse error = ErrorResponse.decode(body);

        assertEquals(
                List.of('S', 'V', 'C', 'q', 'M', '!', 'R'),
                List.copyOf(error.fields().keySet()));
        assertEquals("unknown one", error.fields().get('q'));
        assertEquals("unknown two", error.fields().get('!'));
        assertEquals("FATAL", error.severity());
        assertEquals("28P01", error.sqlState());
        assertEquals("password authentication failed for user \"alice\"", error.message());
        assertTrue(error.isFatal());
        ByteBuf out = Unpooled.buffer();
        error.encode(out);
        assertArrayEquals(typed('E', wire), ByteBufUtil.getBytes(out));
        assertTrue(out.release());
        assertTrue(body.release());
    }

    @Test
    void noticeResponseKeepsFieldsInWireOrder() {
        byte[] wire = body().int8('S')
                .cstring("WARNUNG")
                .int8('V')
                .cstring("WARNING")
                .int8('z')
                .cstring("future")
                .int8('C')
                .cstring("25P01")
                .int8('M')
                .cstring("there is no transaction in progress")
                .int8(0)
                .build();
        ByteBuf body = Unpooled.wrappedBuffer(wire);

        NoticeResponse notice = NoticeResponse.decode(body);

        assertEquals(
                List.of('S', 'V', 'z', 'C', 'M'), List.copyOf(notice.fields().keySet()));
        assertEquals("there is no transaction in progress", notice.message());
        ByteBuf out = Unpooled.buffer();
        notice.encode(out);
        assertArrayEquals(typed('N', wire), ByteBufUtil.getBytes(out));
        assertTrue(out.release());
        assertTrue(body.release());
    }

    @Test
    void errorResponseOfFillsSeverityCodeAndMessageInOrder() {
        ErrorResponse error = ErrorResponse.of(Severity.FATAL, SqlState.TOO_MANY_CONNECTIONS, "too many clients");

        assertEquals(List.of('S', 'V', 'C', 'M'), List.copyOf(error.fields().keySet()));
        assertEquals(
                List.of("FATAL", "FATAL", "53300", "too many clients"),
                List.copyOf(error.fields().values()));
        assertEquals("FATAL", error.severity());
        assertEquals("53300", error.sqlState());
        assertEquals("too many clients", error.message());
        assertTrue(error.isFatal());
    }

    @Test
    void errorOfSeverityErrorDoesNotEndTheSession() {
        ErrorResponse error = ErrorResponse.of(Severity.ERROR, "57014", "canceling statement due to user request");

        assertEquals("ERROR", error.severity());
        assertFalse(error.isFatal());
    }

    @Test
    void errorSeverityFallsBackToTheLocalizedField() {
        ErrorResponse error = new ErrorResponse(Map.of('S', "PANIC"));

        assertEquals("PANIC", error.severity());
        assertTrue(error.isFatal());
        assertEquals("", error.sqlState());
        assertEquals("", error.message());
    }

    @Test
    void noticeResponseOfFillsSeverityCodeAndMessage() {
        NoticeResponse notice = NoticeResponse.of(Severity.NOTICE, "00000", "pool paused");

        assertEquals(
                List.of("NOTICE", "NOTICE", "00000", "pool paused"),
                List.copyOf(notice.fields().values()));
        assertEquals("pool paused", notice.message());
    }

    @Test
    void dataRowWritesNullAsMinusOneAndNonAsciiAsUtf8Bytes() {
        String text = "Grüße ✓";
        DataRow row = new DataRow(java.util.Arrays.asList(null, text));
        ByteBuf out = Unpooled.buffer();

        row.encode(out);

        byte[] utf8 = text.getBytes(StandardCharsets.UTF_8);
        byte[] expectedBody =
                body().int16(2).int32(-1).int32(utf8.length).bytes(utf8).build();
        assertArrayEquals(typed('D', expectedBody), ByteBufUtil.getBytes(out));
        DataRow decoded = DataRow.decode(out.skipBytes(Frame.HEADER_LENGTH));
        assertNull(decoded.values().get(0));
        assertEquals(text, decoded.values().get(1));
        assertTrue(out.release());
    }

    @Test
    void rowDescriptionColumnsRoundTripWithEveryAttribute() {
        RowDescription.Column column =
                new RowDescription.Column("amount", 16390, (short) 3, 1700, (short) -1, 0x000a0006, (short) 1);
        ByteBuf out = Unpooled.buffer();
        new RowDescription(List.of(column, RowDescription.Column.text("name"))).encode(out);

        RowDescription decoded = RowDescription.decode(out.skipBytes(Frame.HEADER_LENGTH));

        assertEquals(column, decoded.columns().get(0));
        assertEquals(RowDescription.TEXT_OID, decoded.columns().get(1).typeOid());
        assertEquals(-1, decoded.columns().get(1).typeSize());
        assertTrue(out.release());
    }

    @ParameterizedTest
    @EnumSource(TransactionStatus.class)
    void readyForQueryCarriesEachTransactionStatus(TransactionStatus status) {
        ByteBuf out = Unpooled.buffer();
        new ReadyForQuery(status).encode(out);

        assertArrayEquals(new byte[] {'Z', 0, 0, 0, 5, (byte) status.code()}, ByteBufUtil.getBytes(out));
        assertEquals(
                status, ReadyForQuery.decode(out.skipBytes(Frame.HEADER_LENGTH)).status());
        assertEquals(status, TransactionStatus.of((byte) status.code()));
        assertTrue(out.release());
    }

    @Test
    void bindPeekStatementReadsTheNameWithoutMovingTheBody() {
        ByteBuf body = Unpooled.wrappedBuffer(body().cstring("portal")
                .cstring("stmt_7")
                .bytes(MessageExamples.BIND_REST)
                .build());

        assertEquals("stmt_7", Bind.peekStatement(body));

        assertEquals(0, body.readerIndex());
        assertEquals(new Bind("portal", "stmt_7", MessageExamples.BIND_REST), Bind.decode(body));
        assertTrue(body.release());
    }

    @Test
    void bindWithStatementRenamesWithoutTouchingTheRest() {
        ByteBuf body = Unpooled.wrappedBuffer(body().cstring("portal")
                .cstring("stmt_7")
                .bytes(MessageExamples.BIND_REST)
                .build());

        ByteBuf renamed = Bind.withStatement(body, "pgmux_s_ü1", ByteBufAllocator.DEFAULT);

        ByteBuf expected =
                new Bind("portal", "pgmux_s_ü1", MessageExamples.BIND_REST).toByteBuf(ByteBufAllocator.DEFAULT);
        assertEquals(ByteBufUtil.hexDump(expected), ByteBufUtil.hexDump(renamed));
        assertEquals(0, body.readerIndex(), "the client's Bind is left as it was");
        assertTrue(expected.release());
        assertTrue(renamed.release());
        assertTrue(body.release());
    }

    @Test
    void bindWithStatementRefusesAnUnterminatedName() {
        ByteBuf body = Unpooled.wrappedBuffer(
                body().cstring("portal").bytes(new byte[] {'s'}).build());

        assertThrows(ProtocolException.class, () -> Bind.withStatement(body, "x", ByteBufAllocator.DEFAULT));
        assertTrue(body.release());
    }

    @Test
    void bindResultFormatsAreReadBehindTheParameters() {
        // BIND_REST: one parameter format, two values ("42" and NULL), one result format: binary.
        assertArrayEquals(new short[] {1}, new Bind("", "s1", MessageExamples.BIND_REST).resultFormats());
        assertArrayEquals(
                new short[0], Bind.withTextParameters("", "", List.of("a", "b")).resultFormats());
        byte[] perColumn =
                body().int16(0).int16(0).int16(3).int16(0).int16(1).int16(0).build();
        assertArrayEquals(new short[] {0, 1, 0}, new Bind("", "", perColumn).resultFormats());
    }

    @Test
    void bindWithTextParametersEncodesTextFormatsAndLengthPrefixedValues() {
        Bind bind = Bind.withTextParameters("", "", List.of("zoë", ""));

        byte[] expected = body().int16(1)
                .int16(0)
                .int16(2)
                .int32(4)
                .bytes("zoë".getBytes(StandardCharsets.UTF_8))
                .int32(0)
                .int16(0)
                .build();
        assertArrayEquals(expected, bind.rest());
        assertEquals("", bind.portal());
        assertEquals("", bind.statement());
    }

    @Test
    void bindPeekStatementOfTheUnnamedStatementIsEmpty() {
        ByteBuf body =
                Unpooled.wrappedBuffer(body().cstring("").cstring("").int16(0).build());

        assertEquals("", Bind.peekStatement(body));
        assertTrue(body.release());
    }

    @Test
    void saslInitialResponseWithoutDataIsEmpty() {
        ByteBuf body =
                Unpooled.wrappedBuffer(body().cstring("SCRAM-SHA-256").int32(-1).build());

        assertEquals(new SaslInitialResponse("SCRAM-SHA-256", ""), SaslInitialResponse.decode(body));
        assertTrue(body.release());
    }

    @Test
    void startupMessageEncodesParametersInInsertionOrder() {
        StartupMessage message = new StartupMessage(StartupMessage.PROTOCOL_3_0, MessageExamples.startupParameters());
        ByteBuf out = Unpooled.buffer();
        message.encode(out);

        StartupMessage decoded = (StartupMessage) StartupPacket.decode(out.skipBytes(4));

        assertEquals(
                List.of("user", "database", "options", "application_name"),
                List.copyOf(decoded.parameters().keySet()));
        assertEquals("psql ✓", decoded.parameters().get("application_name"));
        assertTrue(out.release());
    }

    @Test
    void cancelRequestLengthCountsTheWholeKey() {
        ByteBuf out = Unpooled.buffer();
        new CancelRequest(1, MessageExamples.KEY_32).encode(out);

        assertEquals(4 + 4 + 4 + 32, out.getInt(0));
        assertEquals(StartupPacket.CANCEL_REQUEST_CODE, out.getInt(4));
        assertTrue(out.release());
    }

    @Test
    void keysAreCopiedInAndOut() {
        byte[] key = MessageExamples.KEY_4.clone();
        BackendKeyData data = new BackendKeyData(1, key);
        key[0] = 0;
        data.secretKey()[1] = 0;

        assertArrayEquals(MessageExamples.KEY_4, data.secretKey());
    }

    @Test
    void passwordsAndSaslDataStayOutOfToString() {
        assertFalse(new PasswordMessage("hunter2").toString().contains("hunter2"));
        assertFalse(new SaslResponse("p=proof").toString().contains("proof"));
        assertFalse(
                new SaslInitialResponse("SCRAM-SHA-256", "r=nonce").toString().contains("nonce"));
        assertFalse(new Authentication.SaslContinue("s=salt").toString().contains("salt"));
        assertFalse(new BackendKeyData(1, new byte[] {0x7a, 0x7a, 0x7a, 0x7a})
                .toString()
                .contains("zzzz"));
    }

    private static int authCode(Authentication message) {
        ByteBuf out = Unpooled.buffer();
        message.encode(out);
        int code = out.getInt(Frame.HEADER_LENGTH);
        out.release();
        return code;
    }

    private static void collectRecords(Class<?> type, Set<Class<?>> records) {
        if (type.isSealed()) {
            for (Class<?> permitted : type.getPermittedSubclasses()) {
                collectRecords(permitted, records);
            }
        } else {
            records.add(type);
        }
    }
}
