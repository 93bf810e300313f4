package io.pgmux.protocol.codec;

import static io.pgmux.protocol.ProtocolAssertions.assertDecoderViolation;
import static io.pgmux.protocol.WireBytes.body;
import static io.pgmux.protocol.WireBytes.concat;
import static io.pgmux.protocol.WireBytes.range;
import static io.pgmux.protocol.WireBytes.typed;
import static io.pgmux.protocol.WireBytes.untyped;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.pgmux.protocol.Frame;
import io.pgmux.protocol.MessageType;
import io.pgmux.protocol.message.CancelRequest;
import io.pgmux.protocol.message.GssEncRequest;
import io.pgmux.protocol.message.PasswordMessage;
import io.pgmux.protocol.message.SslRequest;
import io.pgmux.protocol.message.StartupMessage;
import io.pgmux.protocol.message.StartupPacket;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class StartupDecoderTest {
    private static final int MAX = 1024;
    private static final int PROTOCOL_3_0 = 0x0003_0000;

    private static final byte[] SSL_REQUEST = untyped(body().int32(80877103).build());
    private static final byte[] GSSENC_REQUEST = untyped(body().int32(80877104).build());
    private static final byte[] STARTUP = untyped(body().int32(PROTOCOL_3_0)
            .cstring("user")
            .cstring("alice")
            .cstring("database")
            .cstring("appdb")
            .cstring("options")
            .cstring("-c search_path=app")
            .cstring("application_name")
            .cstring("psql")
            .int8(0)
            .build());
    private static final byte[] PASSWORD = typed('p', body().cstring("secret").build());

    private final List<ByteBuf> inputs = new ArrayList<>();
    private final List<EmbeddedChannel> channels = new ArrayList<>();

    @AfterEach
    void everyInputBufferIsReleased() {
        channels.forEach(EmbeddedChannel::finishAndReleaseAll);
        for (ByteBuf input : inputs) {
            assertEquals(0, input.refCnt(), "input buffer leaked");
        }
    }

    @Test
    void sslRequestIsDecodedAndTheDecoderStaysForTheStartupMessage() {
        EmbeddedChannel channel = channel();

        assertTrue(channel.writeInbound(input(SSL_REQUEST)));
        assertEquals(SslRequest.INSTANCE, channel.readInbound());
        assertNotNull(channel.pipeline().get(StartupDecoder.class));
        assertNull(channel.pipeline().get(FrameDecoder.class));

        assertTrue(channel.writeInbound(input(STARTUP)));
        assertInstanceOf(StartupMessage.class, channel.readInbound());
        assertFalse(channel.finish());
    }

    @Test
    void clientsWithTheSameParametersShareOneParameterMap() {
        EmbeddedChannel first = channel();
        EmbeddedChannel second = channel();

        first.writeInbound(input(STARTUP));
        second.writeInbound(input(STARTUP));
        StartupMessage one = first.readInbound();
        StartupMessage two = second.readInbound();

        // An idle crowd of clients holds one copy of what they all sent, not one each.
        assertSame(one.parameters(), two.parameters());
        assertEquals("alice", two.user());
        assertThrows(UnsupportedOperationException.class, () -> one.parameters().put("user", "mallory"));
    }

    @Test
    void gssEncRequestIsDecoded() {
        EmbeddedChannel channel = channel();

        assertTrue(channel.writeInbound(input(GSSENC_REQUEST)));

        assertEquals(GssEncRequest.INSTANCE, channel.readInbound());
        assertNotNull(channel.pipeline().get(StartupDecoder.class));
        assertFalse(channel.finish());
    }

    @Test
    void cancelRequestWithFourByteKeyIsDecoded() {
        byte[] key = {1, 2, 3, 4};
        EmbeddedChannel channel = channel();

        channel.writeInbound(
                input(untyped(body().int32(80877102).int32(4242).bytes(key).build())));

        CancelRequest cancel = channel.readInbound();
        assertEquals(4242, cancel.processId());
        assertArrayEquals(key, cancel.secretKey());
        assertFalse(channel.finish());
    }

    @Test
    void cancelRequestWithThirtyTwoByteKeyIsDecoded() {
        byte[] key = new byte[32];
        for (int i = 0; i < key.length; i++) {
            key[i] = (byte) (0xa0 + i);
        }
        EmbeddedChannel channel = channel();

        channel.writeInbound(
                input(untyped(body().int32(80877102).int32(-7).bytes(key).build())));

        assertEquals(new CancelRequest(-7, key), channel.readInbound());
        assertFalse(channel.finish());
    }

    @Test
    void startupMessageKeepsItsParametersInOrderAndSwapsInTheFrameDecoder() {
        EmbeddedChannel channel = channel();

        assertTrue(channel.writeInbound(input(STARTUP)));

        StartupMessage startup = channel.readInbound();
        assertEquals(PROTOCOL_3_0, startup.protocolVersion());
        assertEquals(3, startup.majorVersion());
        assertEquals(0, startup.minorVersion());
        assertEquals("alice", startup.user());
        assertEquals("appdb", startup.database());
        assertEquals(
                List.of("user", "database", "options", "application_name"),
                List.copyOf(startup.parameters().keySet()));
        assertEquals("-c search_path=app", startup.parameters().get("options"));
        assertEquals("psql", startup.parameters().get("application_name"));
        assertNotNull(channel.pipeline().get(FrameDecoder.class));
        assertNull(channel.pipeline().get(StartupDecoder.class));
        assertFalse(channel.finish());
    }

    @Test
    void databaseDefaultsToTheUserName() {
        EmbeddedChannel channel = channel();

        channel.writeInbound(input(untyped(body().int32(PROTOCOL_3_0)
                .cstring("user")
                .cstring("bob")
                .int8(0)
                .build())));

        StartupMessage startup = channel.readInbound();
        assertEquals(Map.of("user", "bob"), startup.parameters());
        assertEquals("bob", startup.database());
        assertFalse(channel.finish());
    }

    @ParameterizedTest
    @ValueSource(ints = {0x0003_0002, 0x0003_0009})
    void newerMinorVersionsOfProtocolThreeAreAccepted(int version) {
        EmbeddedChannel channel = channel();

        channel.writeInbound(input(untyped(
                body().int32(version).cstring("user").cstring("alice").int8(0).build())));

        StartupMessage startup = channel.readInbound();
        assertEquals(version, startup.protocolVersion());
        assertFalse(channel.finish());
    }

    @Test
    void typedMessageCoalescedBehindTheStartupMessageComesOutAsAFrame() {
        EmbeddedChannel channel = channel();

        assertTrue(channel.writeInbound(input(concat(STARTUP, PASSWORD, typed('X', new byte[0])))));

        assertInstanceOf(StartupMessage.class, channel.readInbound());
        assertNotNull(channel.pipeline().get(FrameDecoder.class));
        Frame password = channel.readInbound();
        assertEquals(MessageType.Frontend.PASSWORD, password.type());
        assertEquals(new PasswordMessage("secret"), PasswordMessage.decode(password.body()));
        assertArrayEquals(PASSWORD, ByteBufUtil.getBytes(password.content()));
        password.release();
        FrameDecoderTest.assertFrames(channel, typed('X', new byte[0]));
        assertFalse(channel.finish());
    }

    @Test
    void startupAndPasswordSplitAtEveryOffsetComeOutInOrder() {
        byte[] wire = concat(STARTUP, PASSWORD);
        for (int split = 1; split < wire.length; split++) {
            EmbeddedChannel channel = channel();

            channel.writeInbound(input(range(wire, 0, split)));
            channel.writeInbound(input(range(wire, split, wire.length)));

            assertInstanceOf(StartupMessage.class, channel.readInbound(), "split at " + split);
            FrameDecoderTest.assertFrames(channel, PASSWORD);
            assertFalse(channel.finish(), "split at " + split);
        }
    }

    @Test
    void sslRequestAndStartupFedOneByteAtATimeComeOutInOrder() {
        byte[] wire = concat(SSL_REQUEST, STARTUP, PASSWORD);
        EmbeddedChannel channel = channel();

        for (byte b : wire) {
            channel.writeInbound(input(new byte[] {b}));
        }

        assertEquals(SslRequest.INSTANCE, channel.readInbound());
        assertInstanceOf(StartupMessage.class, channel.readInbound());
        FrameDecoderTest.assertFrames(channel, PASSWORD);
        assertFalse(channel.finish());
    }

    @ParameterizedTest
    @ValueSource(strings = {"SSL", "GSSAPI encryption"})
    void bytesPipelinedBehindAnEncryptionRequestAreRefused(String kind) {
        byte[] request = kind.equals("SSL") ? SSL_REQUEST : GSSENC_REQUEST;
        EmbeddedChannel channel = channel();

        assertDecoderViolation(
                () -> channel.writeInbound(input(concat(request, STARTUP))),
                "received unencrypted data after " + kind + " request");
        assertNull(channel.readInbound(), "the request is not answered");
        assertFalse(channel.finish());
    }

    @Test
    void maxMessageSizeCarriesOverToTheFrameDecoder() {
        EmbeddedChannel channel = channel(16);
        byte[] oversized = typed('Q', body().cstring("SELECT 12345").build()); // 18 bytes

        channel.writeInbound(input(STARTUP));
        assertInstanceOf(StartupMessage.class, channel.readInbound());

        assertDecoderViolation(() -> channel.writeInbound(input(oversized)), "max-message-size (16)");
        assertFalse(channel.finish());
    }

    @Test
    void startupPacketOfExactlyTheCapIsAccepted() {
        byte[] prefix = body().int32(PROTOCOL_3_0)
                .cstring("user")
                .cstring("alice")
                .cstring("options")
                .build();
        int valueLength = StartupDecoder.MAX_STARTUP_PACKET_LENGTH - 4 - prefix.length - 2;
        byte[] wire = untyped(body().bytes(prefix)
                .text("x".repeat(valueLength))
                .int8(0)
                .int8(0)
                .build());
        assertEquals(StartupDecoder.MAX_STARTUP_PACKET_LENGTH, wire.length);
        EmbeddedChannel channel = channel();

        channel.writeInbound(input(wire));

        StartupMessage startup = channel.readInbound();
        assertEquals(valueLength, startup.parameters().get("options").length());
        assertFalse(channel.finish());
    }

    @ParameterizedTest
    @ValueSource(ints = {7, 4, 0, -1, 10_001, Integer.MAX_VALUE})
    void invalidLengthIsRejectedAndLaterInputDiscarded(int length) {
        EmbeddedChannel channel = channel();

        assertDecoderViolation(
                () -> channel.writeInbound(input(body().int32(length).build())),
                "invalid length of startup packet: " + length);

        assertFalse(channel.writeInbound(input(STARTUP)));
        assertNull(channel.readInbound());
        assertNotNull(channel.pipeline().get(StartupDecoder.class));
        assertFalse(channel.finish());
    }

    @ParameterizedTest
    @ValueSource(ints = {0x0002_0000, 0x0004_0000, 0x0001_0000, 0})
    void unsupportedProtocolVersionIsRejected(int version) {
        EmbeddedChannel channel = channel();
        byte[] wire = untyped(
                body().int32(version).cstring("user").cstring("alice").int8(0).build());

        assertDecoderViolation(
                () -> channel.writeInbound(input(wire)),
                "unsupported frontend protocol " + (version >>> 16) + "." + (version & 0xffff));

        assertFalse(channel.writeInbound(input(STARTUP)));
        assertNull(channel.pipeline().get(FrameDecoder.class));
        assertFalse(channel.finish());
    }

    @Test
    void parameterGivenTwiceIsRejected() {
        EmbeddedChannel channel = channel();
        byte[] wire = untyped(body().int32(PROTOCOL_3_0)
                .cstring("user")
                .cstring("alice")
                .cstring("user")
                .cstring("mallory")
                .int8(0)
                .build());

        assertDecoderViolation(() -> channel.writeInbound(input(wire)), "parameter \"user\" given twice");
        assertFalse(channel.finish());
    }

    @Test
    void startupMessageWithoutItsFinalTerminatorIsRejected() {
        EmbeddedChannel channel = channel();
        byte[] wire = untyped(
                body().int32(PROTOCOL_3_0).cstring("user").cstring("alice").build());

        assertDecoderViolation(() -> channel.writeInbound(input(wire)), "missing terminator");
        assertFalse(channel.finish());
    }

    @Test
    void parameterValueCutOffByTheLengthIsRejected() {
        EmbeddedChannel channel = channel();
        byte[] wire =
                untyped(body().int32(PROTOCOL_3_0).cstring("user").text("alice").build());

        assertDecoderViolation(() -> channel.writeInbound(input(wire)), "missing terminator");
        assertFalse(channel.finish());
    }

    @Test
    void sslRequestWithExtraBytesIsRejected() {
        EmbeddedChannel channel = channel();
        byte[] wire = untyped(body().int32(80877103).int32(0).build());

        assertDecoderViolation(() -> channel.writeInbound(input(wire)), "invalid SSLRequest message: 4 trailing bytes");
        assertFalse(channel.finish());
    }

    @Test
    void cancelRequestWithShortKeyIsRejected() {
        EmbeddedChannel channel = channel();
        byte[] wire = untyped(body().int32(80877102).int32(1).bytes(new byte[3]).build());

        assertDecoderViolation(() -> channel.writeInbound(input(wire)), "secret key of 3 bytes");
        assertFalse(channel.finish());
    }

    @Test
    void startupPacketDecodesWithoutTheDecoder() {
        ByteBuf body = Unpooled.wrappedBuffer(range(STARTUP, 4, STARTUP.length));

        StartupPacket packet = StartupPacket.decode(body);

        assertEquals("alice", ((StartupMessage) packet).user());
        assertFalse(body.isReadable());
        assertTrue(body.release());
    }

    @Test
    void maximumBelowAHeaderIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> new StartupDecoder(0));
    }

    private EmbeddedChannel channel() {
        return channel(MAX);
    }

    private EmbeddedChannel channel(int maxMessageSize) {
        EmbeddedChannel channel = new EmbeddedChannel(new StartupDecoder(maxMessageSize));
        channels.add(channel);
        return channel;
    }

    private ByteBuf input(byte[] bytes) {
        ByteBuf buf = Unpooled.wrappedBuffer(bytes);
        inputs.add(buf);
        return buf;
    }
}
