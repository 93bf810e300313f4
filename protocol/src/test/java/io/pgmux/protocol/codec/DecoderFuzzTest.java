package io.pgmux.protocol.codec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandler;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.DecoderException;
import io.pgmux.protocol.Frame;
import io.pgmux.protocol.ProtocolException;
import io.pgmux.protocol.SqlState;
import io.pgmux.protocol.WireBytes;
import io.pgmux.protocol.fuzz.Bounded;
import io.pgmux.protocol.fuzz.FuzzTries;
import io.pgmux.protocol.fuzz.Mutation;
import io.pgmux.protocol.fuzz.TrackingAllocator;
import io.pgmux.protocol.message.GssEncRequest;
import io.pgmux.protocol.message.SslRequest;
import io.pgmux.protocol.message.StartupMessage;
import io.pgmux.protocol.message.StartupPacket;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.function.Supplier;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import net.jqwik.api.lifecycle.AddLifecycleHook;

/**
 * Property-based fuzzing of {@link FrameDecoder} and {@link StartupDecoder} on an {@link EmbeddedChannel}: random
 * bytes, generated message streams and mutations of them, each cut into random reads. Whatever comes in, a decoder
 * may only emit frames and startup packets or fail with a 08P01 {@link ProtocolException} (wrapped by Netty in a
 * {@link DecoderException}), it must return, and every buffer (the reads, and the cumulation buffer the decoder
 * allocates itself) must end released. The output is also checked against a reference model of the framing rules,
 * so that a split never changes what comes out.
 */
@AddLifecycleHook(FuzzTries.class)
class DecoderFuzzTest {
    private static final HexFormat HEX = HexFormat.of();

    /** Type bytes pgmux knows in either direction, plus a few it does not. */
    private static final byte[] TYPES =
            "BCdcfDEHFPpQSXRK123WGHIEnNAtsTvVZ\0\u007f".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);

    // ---- properties: FrameDecoder ---------------------------------------------------------------

    @Property
    void frameDecoderSurvivesRandomBytes(
            @ForAll @Size(max = 400) byte[] wire,
            @ForAll("reads") List<Integer> reads,
            @ForAll @IntRange(min = 5, max = 300) int maxMessageSize) {
        checkFrameDecoder(wire, reads, maxMessageSize);
    }

    @Property
    void frameDecoderSurvivesGeneratedStreams(
            @ForAll("typedStreams") byte[] wire,
            @ForAll("reads") List<Integer> reads,
            @ForAll @IntRange(min = 5, max = 300) int maxMessageSize) {
        checkFrameDecoder(wire, reads, maxMessageSize);
    }

    @Property
    void frameDecoderSurvivesMutatedStreams(
            @ForAll("typedStreams") byte[] valid,
            @ForAll("mutations") List<Mutation> mutations,
            @ForAll("reads") List<Integer> reads,
            @ForAll @IntRange(min = 5, max = 300) int maxMessageSize) {
        checkFrameDecoder(Mutation.applyAll(valid, mutations), reads, maxMessageSize);
    }

    // ---- properties: StartupDecoder -------------------------------------------------------------

    @Property
    void startupDecoderSurvivesRandomBytes(
            @ForAll @Size(max = 400) byte[] wire,
            @ForAll("reads") List<Integer> reads,
            @ForAll @IntRange(min = 5, max = 300) int maxMessageSize) {
        checkStartupDecoder(wire, reads, maxMessageSize);
    }

    @Property
    void startupDecoderSurvivesGeneratedStreams(
            @ForAll("startupStreams") byte[] wire,
            @ForAll("reads") List<Integer> reads,
            @ForAll @IntRange(min = 5, max = 300) int maxMessageSize) {
        checkStartupDecoder(wire, reads, maxMessageSize);
    }

    @Property
    void startupDecoderSurvivesMutatedStreams(
            @ForAll("startupStreams") byte[] valid,
            @ForAll("mutations") List<Mutation> mutations,
            @ForAll("reads") List<Integer> reads,
            @ForAll @IntRange(min = 5, max = 300) int maxMessageSize) {
        checkStartupDecoder(Mutation.applyAll(valid, mutations), reads, maxMessageSize);
    }

    // ---- checks ---------------------------------------------------------------------------------

    private static void checkFrameDecoder(byte[] wire, List<Integer> reads, int maxMessageSize) {
        Outcome expected = Model.frames(wire, 0, maxMessageSize, new ArrayList<>());
        Outcome actual =
                Bounded.call("FrameDecoder", () -> decode(() -> new FrameDecoder(maxMessageSize), wire, reads));
        assertEquals(expected, actual, () -> "FrameDecoder(" + maxMessageSize + ") on " + HEX.formatHex(wire));
    }

    private static void checkStartupDecoder(byte[] wire, List<Integer> reads, int maxMessageSize) {
        Outcome expected = Model.startup(wire, reads, maxMessageSize);
        Outcome actual =
                Bounded.call("StartupDecoder", () -> decode(() -> new StartupDecoder(maxMessageSize), wire, reads));
        assertEquals(expected, actual, () -> "StartupDecoder(" + maxMessageSize + ") on " + HEX.formatHex(wire));
    }

    /**
     * What came out of a decoder: frames (as hex of their wire bytes) and startup packets in order, and whether it
     * failed with a protocol violation.
     */
    record Outcome(List<Object> messages, boolean failed) {}

    /** Feeds {@code wire} in reads of the given sizes, then closes the channel; checks every buffer was released. */
    private static Outcome decode(Supplier<ChannelHandler> decoder, byte[] wire, List<Integer> reads) {
        TrackingAllocator alloc = new TrackingAllocator();
        EmbeddedChannel channel = new EmbeddedChannel();
        channel.config().setAllocator(alloc);
        channel.pipeline().addLast(decoder.get());
        List<Object> messages = new ArrayList<>();
        ProtocolException error = null;
        Iterator<Integer> sizes = reads.iterator();
        int offset = 0;
        while (offset < wire.length) {
            int size = sizes.hasNext() ? Math.min(sizes.next(), wire.length - offset) : wire.length - offset;
            ByteBuf read = alloc.copyOf(wire, offset, size);
            offset += size;
            error = run(() -> channel.writeInbound(read), error);
            drain(channel, messages);
        }
        error = run(channel::finish, error);
        drain(channel, messages);
        assertFalse(channel.isOpen());
        alloc.assertAllReleased("after " + messages.size() + " messages" + (error == null ? "" : " and " + error));
        return new Outcome(messages, error != null);
    }

    /**
     * Runs one channel operation; returns the protocol violation it raised, if any. Only one may ever be raised: a
     * decoder that failed discards everything after.
     */
    private static ProtocolException run(Runnable action, ProtocolException earlier) {
        try {
            action.run();
            return earlier;
        } catch (DecoderException e) {
            if (!(e.getCause() instanceof ProtocolException violation)) {
                throw new AssertionError("decoder failed with something other than a ProtocolException: " + e, e);
            }
            return record(violation, earlier);
        } catch (ProtocolException violation) {
            return record(violation, earlier);
        } catch (RuntimeException e) {
            throw new AssertionError("decoder threw " + e, e);
        }
    }

    private static ProtocolException record(ProtocolException violation, ProtocolException earlier) {
        assertEquals(SqlState.PROTOCOL_VIOLATION, violation.sqlState(), violation::toString);
        String message = violation.getMessage();
        assertTrue(
                message != null && !message.isEmpty() && !message.endsWith("."),
                () -> "message phrased as PostgreSQL's: " + message);
        if (earlier != null) {
            fail("second violation \"" + message + "\" after \"" + earlier.getMessage() + "\": input after a"
                    + " violation must be discarded");
        }
        return violation;
    }

    /** Moves what the decoder emitted into {@code messages}, releasing frames. */
    private static void drain(EmbeddedChannel channel, List<Object> messages) {
        Object message;
        while ((message = channel.readInbound()) != null) {
            if (message instanceof Frame frame) {
                messages.add("frame " + HEX.formatHex(ByteBufUtil.getBytes(frame.content())));
                frame.release();
            } else if (message instanceof StartupPacket packet) {
                messages.add(packet);
            } else {
                fail("decoder emitted " + message.getClass().getName() + ": " + message);
            }
        }
    }

    /** The framing rules, written out plainly as an oracle. */
    private static final class Model {
        private Model() {}

        /** Typed messages: type, length (4 .. max-1, itself included), body. */
        static Outcome frames(byte[] wire, int from, int maxMessageSize, List<Object> messages) {
            int at = from;
            while (wire.length - at >= Frame.HEADER_LENGTH) {
                int length = intAt(wire, at + 1);
                if (length < 4 || length > maxMessageSize - 1) {
                    return new Outcome(messages, true);
                }
                if (wire.length - at < length + 1) {
                    break;
                }
                messages.add("frame " + HEX.formatHex(wire, at, at + length + 1));
                at += length + 1;
            }
            return new Outcome(messages, false);
        }

        /**
         * Untyped packets: length (8 .. 10000, itself included), body; typed messages after a StartupMessage. An
         * SSLRequest or GSSENCRequest with more bytes behind it in the same read is a violation: the client must wait
         * for the answer. {@code reads} are the sizes the wire arrives in, as {@link #decode} feeds it.
         */
        static Outcome startup(byte[] wire, List<Integer> reads, int maxMessageSize) {
            List<Object> messages = new ArrayList<>();
            int at = 0;
            while (wire.length - at >= 4) {
                int length = intAt(wire, at);
                if (length < 8 || length > StartupDecoder.MAX_STARTUP_PACKET_LENGTH) {
                    return new Outcome(messages, true);
                }
                if (wire.length - at < length) {
                    break;
                }
                StartupPacket packet;
                ByteBuf body = Unpooled.wrappedBuffer(wire, at + 4, length - 4);
                try {
                    packet = StartupPacket.decode(body);
                } catch (ProtocolException e) {
                    return new Outcome(messages, true);
                } finally {
                    body.release();
                }
                at += length;
                if ((packet instanceof SslRequest || packet instanceof GssEncRequest)
                        && at < readEnd(wire, reads, at)) {
                    return new Outcome(messages, true);
                }
                messages.add(packet);
                if (packet instanceof StartupMessage) {
                    return frames(wire, at, maxMessageSize, messages);
                }
            }
            return new Outcome(messages, false);
        }

        /** Where the read that brings byte {@code offset - 1} ends: what the decoder holds once it has that byte. */
        private static int readEnd(byte[] wire, List<Integer> reads, int offset) {
            int end = 0;
            for (int size : reads) {
                end = Math.min(end + size, wire.length);
                if (end >= offset) {
                    return end;
                }
            }
            return wire.length;
        }

        private static int intAt(byte[] b, int i) {
            return ((b[i] & 0xff) << 24) | ((b[i + 1] & 0xff) << 16) | ((b[i + 2] & 0xff) << 8) | (b[i + 3] & 0xff);
        }
    }

    // ---- generators -----------------------------------------------------------------------------

    @Provide
    Arbitrary<List<Integer>> reads() {
        // From a byte at a time to a few dozen; an empty list is one lump.
        return Arbitraries.integers().between(1, 48).list().ofMaxSize(16);
    }

    @Provide
    Arbitrary<List<Mutation>> mutations() {
        return Mutation.some();
    }

    @Provide
    Arbitrary<byte[]> typedStreams() {
        return typedMessage().list().ofMaxSize(8).map(DecoderFuzzTest::concat);
    }

    @Provide
    Arbitrary<byte[]> startupStreams() {
        return Combinators.combine(
                        untypedPacket().list().ofMaxSize(3),
                        typedMessage().list().ofMaxSize(5))
                .as((untyped, typed) -> concat(List.of(concat(untyped), concat(typed))));
    }

    private static Arbitrary<byte[]> typedMessage() {
        Arbitrary<Byte> type =
                Arbitraries.frequencyOf(Tuple.of(4, Arbitraries.of(boxed(TYPES))), Tuple.of(1, Arbitraries.bytes()));
        Arbitrary<byte[]> wellFormed =
                Combinators.combine(type, bytes(0, 80)).as((t, body) -> WireBytes.typed((char) (t & 0xff), body));
        // A header whose length is off: negative, below 4, around typical maxima, or huge; maybe some body after.
        Arbitrary<byte[]> oddLength = Combinators.combine(
                        type,
                        Arbitraries.frequencyOf(
                                Tuple.of(3, Arbitraries.integers().between(-8, 320)),
                                Tuple.of(1, Arbitraries.integers())),
                        bytes(0, 12))
                .as((t, length, body) ->
                        WireBytes.body().int8(t).int32(length).bytes(body).build());
        return Arbitraries.frequencyOf(Tuple.of(8, wellFormed), Tuple.of(2, oddLength), Tuple.of(1, bytes(1, 12)));
    }

    private static Arbitrary<byte[]> untypedPacket() {
        Arbitrary<byte[]> ssl = Arbitraries.just(WireBytes.untyped(
                WireBytes.body().int32(StartupPacket.SSL_REQUEST_CODE).build()));
        Arbitrary<byte[]> gssenc = Arbitraries.just(WireBytes.untyped(
                WireBytes.body().int32(StartupPacket.GSSENC_REQUEST_CODE).build()));
        Arbitrary<Integer> keyLength = Arbitraries.frequencyOf(
                Tuple.of(3, Arbitraries.of(4, 32, 256)),
                Tuple.of(1, Arbitraries.of(0, 3, 257)),
                Tuple.of(1, Arbitraries.integers().between(0, 300)));
        Arbitrary<byte[]> cancel = Combinators.combine(Arbitraries.integers(), keyLength)
                .as((pid, n) -> WireBytes.untyped(WireBytes.body()
                        .int32(StartupPacket.CANCEL_REQUEST_CODE)
                        .int32(pid)
                        .bytes(new byte[n])
                        .build()));
        Arbitrary<Integer> version = Arbitraries.frequencyOf(
                Tuple.of(6, Arbitraries.of(StartupMessage.PROTOCOL_3_0, StartupMessage.PROTOCOL_3_2, 0x0003_0009)),
                Tuple.of(
                        2,
                        Arbitraries.of(
                                0x0002_0000,
                                0x0004_0000,
                                0,
                                -1,
                                StartupPacket.CANCEL_REQUEST_CODE + 3,
                                StartupPacket.SSL_REQUEST_CODE)),
                Tuple.of(1, Arbitraries.integers()));
        Arbitrary<String> word = Arbitraries.frequencyOf(
                Tuple.of(
                        4,
                        Arbitraries.of(
                                "user", "database", "alice", "appdb", "options", "application_name", "_pq_.x", "")),
                Tuple.of(1, Arbitraries.strings().ofMaxLength(6)));
        Arbitrary<byte[]> startup = Combinators.combine(version, word.list().ofMaxSize(6), Arbitraries.of(true, false))
                .as((v, words, terminated) -> {
                    WireBytes body = WireBytes.body().int32(v);
                    words.forEach(body::cstring);
                    if (terminated) {
                        body.int8(0);
                    }
                    return WireBytes.untyped(body.build());
                });
        Arbitrary<byte[]> oddLength = Combinators.combine(
                        Arbitraries.of(-1, 0, 3, 4, 7, 8, 9, 10_000, 10_001, 1_000_000, Integer.MAX_VALUE),
                        bytes(0, 12))
                .as((length, rest) -> WireBytes.body().int32(length).bytes(rest).build());
        return Arbitraries.frequencyOf(
                Tuple.of(2, ssl),
                Tuple.of(1, gssenc),
                Tuple.of(2, cancel),
                Tuple.of(6, startup),
                Tuple.of(1, oddLength),
                Tuple.of(1, bytes(1, 12)));
    }

    private static Arbitrary<byte[]> bytes(int min, int max) {
        return Arbitraries.bytes().array(byte[].class).ofMinSize(min).ofMaxSize(max);
    }

    private static Byte[] boxed(byte[] bytes) {
        Byte[] out = new Byte[bytes.length];
        for (int i = 0; i < bytes.length; i++) {
            out[i] = bytes[i];
        }
        return out;
    }

    private static byte[] concat(List<byte[]> parts) {
        return WireBytes.concat(parts.toArray(new byte[0][]));
    }
}
