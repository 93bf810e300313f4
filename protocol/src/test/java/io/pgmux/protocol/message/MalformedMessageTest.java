package io.pgmux.protocol.message;

import static io.pgmux.protocol.ProtocolAssertions.assertProtocolViolation;
import static io.pgmux.protocol.WireBytes.body;
import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.pgmux.protocol.Frame;
import io.pgmux.protocol.message.MessageExamples.Example;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class MalformedMessageTest {

    static Stream<Example> examples() {
        return MessageExamples.all();
    }

    static Stream<Example> delimitedExamples() {
        return MessageExamples.all().filter(Example::isDelimited);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("examples")
    void truncatedBodyIsAProtocolViolation(Example example) {
        byte[] body = bodyOf(example);
        int shortest = example.isDelimited() ? body.length : example.shortestBody();
        List<Executable> checks = new ArrayList<>();
        for (int length = 0; length < shortest; length++) {
            byte[] truncated = java.util.Arrays.copyOf(body, length);
            checks.add(() -> assertProtocolViolation(() -> decode(example.decoder(), truncated), ""));
        }
        assertAll(example.name(), checks);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("delimitedExamples")
    void trailingBytesAreAProtocolViolation(Example example) {
        byte[] body = body().bytes(bodyOf(example)).int8('x').build();

        // Most decoders say "trailing bytes"; Parse and SASLInitialResponse see a count that does not match.
        assertProtocolViolation(() -> decode(example.decoder(), body), "");
    }

    @Test
    void truncatedIntegerNamesWhatIsMissing() {
        assertProtocolViolation(
                () -> decode(Execute::decode, body().cstring("p1").int16(0).build()),
                "message too short: wanted 4 bytes, 2 left");
    }

    @Test
    void emptyBodyOfReadyForQueryNamesWhatIsMissing() {
        assertProtocolViolation(() -> decode(ReadyForQuery::decode, new byte[0]), "wanted 1 byte, none left");
    }

    @ParameterizedTest
    @ValueSource(chars = {'X', 'i', 0})
    void unknownReadyForQueryStatusIsRefused(char status) {
        assertProtocolViolation(
                () -> decode(ReadyForQuery::decode, new byte[] {(byte) status}),
                "invalid transaction status '" + status + "' in ReadyForQuery");
    }

    @Test
    void unknownDescribeKindIsRefused() {
        assertProtocolViolation(
                () -> decode(Describe::decode, body().int8('X').cstring("s1").build()),
                "invalid target kind 'X' (expected 'S' or 'P')");
    }

    @Test
    void unknownCloseKindIsRefused() {
        assertProtocolViolation(
                () -> decode(Close::decode, body().int8('s').cstring("s1").build()), "invalid target kind 's'");
    }

    @Test
    void parseAnnouncingMoreParameterTypesThanItCarriesIsRefused() {
        byte[] body =
                body().cstring("s1").cstring("SELECT $1, $2").int16(2).int32(23).build();

        assertProtocolViolation(
                () -> decode(Parse::decode, body), "invalid Parse message: 2 parameter types announced");
    }

    @Test
    void parseAnnouncingFewerParameterTypesThanItCarriesIsRefused() {
        byte[] body = body().cstring("s1")
                .cstring("SELECT $1")
                .int16(1)
                .int32(23)
                .int32(25)
                .build();

        assertProtocolViolation(() -> decode(Parse::decode, body), "1 parameter types announced");
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 3, 257, 300})
    void backendKeyDataWithKeyOutsideFourTo256BytesIsRefused(int keyLength) {
        byte[] body = body().int32(42).bytes(new byte[keyLength]).build();

        assertProtocolViolation(
                () -> decode(BackendKeyData::decode, body),
                "invalid BackendKeyData: secret key of " + keyLength + " bytes");
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 3, 257, 300})
    void cancelRequestWithKeyOutsideFourTo256BytesIsRefused(int keyLength) {
        byte[] body = body().int32(StartupPacket.CANCEL_REQUEST_CODE)
                .int32(42)
                .bytes(new byte[keyLength])
                .build();

        assertProtocolViolation(
                () -> decode(StartupPacket::decode, body),
                "invalid CancelRequest: secret key of " + keyLength + " bytes");
    }

    @Test
    void keyOf256BytesIsTheLongestAccepted() {
        byte[] key = new byte[256];
        BackendKeyData data =
                decode(BackendKeyData::decode, body().int32(1).bytes(key).build());

        assertEquals(new BackendKeyData(1, key), data);
    }

    @Test
    void stringWithoutTerminatorIsRefused() {
        assertProtocolViolation(
                () -> decode(Query::decode, body().text("SELECT 1").build()),
                "invalid string in message: missing terminator");
    }

    @Test
    void parameterStatusWithoutValueIsRefused() {
        assertProtocolViolation(
                () -> decode(ParameterStatus::decode, body().cstring("TimeZone").build()), "missing terminator");
    }

    @Test
    void errorResponseWithoutFinalTerminatorIsRefused() {
        byte[] body =
                body().int8('S').cstring("ERROR").int8('M').cstring("boom").build();

        assertProtocolViolation(() -> decode(ErrorResponse::decode, body), "message too short");
    }

    @Test
    void errorResponseWithBytesAfterItsTerminatorIsRefused() {
        byte[] body = body().int8('M').cstring("boom").int8(0).int8('x').build();

        assertProtocolViolation(
                () -> decode(NoticeResponse::decode, body), "invalid error or notice message: 1 trailing bytes");
    }

    @Test
    void saslWithoutMechanismsIsRefused() {
        assertProtocolViolation(
                () -> decode(Authentication::decode, body().int32(10).int8(0).build()),
                "invalid AuthenticationSASL: no mechanisms");
    }

    @Test
    void authenticationOkWithBytesAfterItIsRefused() {
        assertProtocolViolation(
                () -> decode(Authentication::decode, body().int32(0).int32(0).build()),
                "invalid Authentication message: 4 trailing bytes");
    }

    @Test
    void md5SaltOfThreeBytesIsRefused() {
        assertProtocolViolation(
                () -> decode(
                        Authentication::decode,
                        body().int32(5).bytes(new byte[3]).build()),
                "wanted 4 bytes, 3 left");
    }

    @Test
    void bindResultFormatsOfATruncatedBindAreAProtocolViolation() {
        byte[] rest = MessageExamples.BIND_REST;
        List<Executable> checks = new ArrayList<>();
        for (int length = 0; length < rest.length; length++) {
            Bind bind = new Bind("", "s1", java.util.Arrays.copyOf(rest, length));
            checks.add(() -> assertProtocolViolation(bind::resultFormats, "message too short"));
        }
        assertAll(checks);
    }

    @Test
    void bindResultFormatsWithBytesAfterThemAreAProtocolViolation() {
        Bind bind = new Bind(
                "", "s1", body().bytes(MessageExamples.BIND_REST).int8(0).build());

        assertProtocolViolation(bind::resultFormats, "1 trailing bytes after the result formats");
    }

    @Test
    void bindParameterLengthBelowMinusOneIsAProtocolViolation() {
        Bind bind =
                new Bind("", "s1", body().int16(0).int16(1).int32(-2).int16(0).build());

        assertProtocolViolation(bind::resultFormats, "parameter 1 has an invalid length -2");
    }

    @Test
    void dataRowValueLengthBelowMinusOneIsRefused() {
        byte[] body = body().int16(1).int32(-2).build();

        assertProtocolViolation(() -> decode(DataRow::decode, body), "invalid DataRow message: value length -2");
    }

    @Test
    void dataRowValueLongerThanTheMessageIsRefused() {
        byte[] body = body().int16(1).int32(10).text("short").build();

        assertProtocolViolation(() -> decode(DataRow::decode, body), "wanted 10 bytes, 5 left");
    }

    @Test
    void rowDescriptionAnnouncingMoreColumnsThanItCarriesIsRefused() {
        byte[] body = body().int16(2)
                .cstring("a")
                .int32(0)
                .int16(0)
                .int32(25)
                .int16(-1)
                .int32(-1)
                .int16(0)
                .build();

        assertProtocolViolation(() -> decode(RowDescription::decode, body), "");
    }

    @Test
    void negotiateProtocolVersionWithNegativeOptionCountIsRefused() {
        assertProtocolViolation(
                () -> decode(
                        NegotiateProtocolVersion::decode,
                        body().int32(0).int32(-1).build()),
                "invalid NegotiateProtocolVersion message: -1 options");
    }

    @ParameterizedTest
    @ValueSource(ints = {5, 3, -2})
    void saslInitialResponseWithWrongDataLengthIsRefused(int length) {
        byte[] body = body().cstring("SCRAM-SHA-256").int32(length).text("abcd").build();

        assertProtocolViolation(
                () -> decode(SaslInitialResponse::decode, body), "invalid SASLInitialResponse: data length " + length);
    }

    @Test
    void unsupportedProtocolVersionNamesTheVersion() {
        byte[] body =
                body().int32(0x0004_0001).cstring("user").cstring("a").int8(0).build();

        assertProtocolViolation(
                () -> decode(StartupPacket::decode, body),
                "unsupported frontend protocol 4.1: server supports 3.0 to 3.2");
    }

    @Test
    void gssEncRequestWithExtraBytesIsRefused() {
        byte[] body = body().int32(StartupPacket.GSSENC_REQUEST_CODE).int8(0).build();

        assertProtocolViolation(() -> decode(StartupPacket::decode, body), "invalid GSSENCRequest message");
    }

    @Test
    void md5SaltMustBeFourBytesWhenBuilt() {
        assertThrows(IllegalArgumentException.class, () -> new Authentication.Md5Password(new byte[5]));
    }

    private static byte[] bodyOf(Example example) {
        ByteBuf out = Unpooled.buffer();
        example.message().encode(out);
        int header = example.isStartupPacket() ? 4 : Frame.HEADER_LENGTH;
        byte[] body = ByteBufUtil.getBytes(out, header, out.readableBytes() - header);
        out.release();
        return body;
    }

    /** Decodes from a buffer that is released whatever happens, as a handler would do with a frame. */
    private static <T> T decode(Function<ByteBuf, T> decoder, byte[] body) {
        ByteBuf buf = Unpooled.wrappedBuffer(body);
        try {
            return decoder.apply(buf);
        } finally {
            buf.release();
        }
    }
}
