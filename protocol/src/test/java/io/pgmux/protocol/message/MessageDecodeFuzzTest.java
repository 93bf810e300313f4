package io.pgmux.protocol.message;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.pgmux.protocol.Frame;
import io.pgmux.protocol.MessageType;
import io.pgmux.protocol.ProtocolException;
import io.pgmux.protocol.SqlState;
import io.pgmux.protocol.WireBytes;
import io.pgmux.protocol.fuzz.Bounded;
import io.pgmux.protocol.fuzz.FuzzTries;
import io.pgmux.protocol.fuzz.Mutation;
import io.pgmux.protocol.fuzz.TrackingAllocator;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayDeque;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.stream.Collectors;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.constraints.Size;
import net.jqwik.api.lifecycle.AddLifecycleHook;

/**
 * Property-based fuzzing of every message record's {@code decode}: random bodies, bodies put together from protocol
 * tokens (C strings, awkward int16/int32 counts and lengths), and mutations of valid messages. A decoder may only
 * return a message or throw a 08P01 {@link ProtocolException}; it must return, read only inside its body (the body
 * is a slice, as a frame's is), neither retain nor release it, and what it returns must survive an encode and a
 * second decode unchanged.
 */
@AddLifecycleHook(FuzzTries.class)
class MessageDecodeFuzzTest {
    private static final HexFormat HEX = HexFormat.of();

    /**
     * One decode function. {@code header} is how many bytes {@code encode} writes before the body (5 for a typed
     * message, 4 for a startup packet, 8 when the request code is read by the caller), or 0 when the result is not a message to round-trip.
     */
    record Decoder(String name, Class<?> owner, Function<ByteBuf, ?> decode, int header) {
        @Override
        public String toString() {
            return name;
        }
    }

    static final List<Decoder> DECODERS = List.of(
            typed("Query", Query.class, Query::decode),
            typed("Parse", Parse.class, Parse::decode),
            typed("Bind", Bind.class, Bind::decode),
            new Decoder("Bind.peekStatement", Bind.class, Bind::peekStatement, 0),
            typed("Describe", Describe.class, Describe::decode),
            typed("Close", Close.class, Close::decode),
            typed("Execute", Execute.class, Execute::decode),
            typed("CopyFail", CopyFail.class, CopyFail::decode),
            typed("PasswordMessage", PasswordMessage.class, PasswordMessage::decode),
            typed("SaslInitialResponse", SaslInitialResponse.class, SaslInitialResponse::decode),
            typed("SaslResponse", SaslResponse.class, SaslResponse::decode),
            untyped("StartupPacket", StartupPacket.class, StartupPacket::decode),
            // These two read what follows the request code, which encode writes after the length.
            new Decoder("CancelRequest", CancelRequest.class, CancelRequest::decode, 8),
            new Decoder(
                    "StartupMessage 3.0",
                    StartupMessage.class,
                    b -> StartupMessage.decode(StartupMessage.PROTOCOL_3_0, b),
                    8),
            typed("Authentication", Authentication.class, Authentication::decode),
            typed("ParameterStatus", ParameterStatus.class, ParameterStatus::decode),
            typed("BackendKeyData", BackendKeyData.class, BackendKeyData::decode),
            typed("ReadyForQuery", ReadyForQuery.class, ReadyForQuery::decode),
            typed("ErrorResponse", ErrorResponse.class, ErrorResponse::decode),
            typed("NoticeResponse", NoticeResponse.class, NoticeResponse::decode),
            typed("RowDescription", RowDescription.class, RowDescription::decode),
            typed("DataRow", DataRow.class, DataRow::decode),
            typed("CommandComplete", CommandComplete.class, CommandComplete::decode),
            typed("NegotiateProtocolVersion", NegotiateProtocolVersion.class, NegotiateProtocolVersion::decode));

    @Example
    void everyMessageTypeWithADecodeIsFuzzed() {
        Set<String> withDecode = new TreeSet<>();
        ArrayDeque<Class<?>> todo = new ArrayDeque<>(List.of(FrontendMessage.class, BackendMessage.class));
        while (!todo.isEmpty()) {
            Class<?> type = todo.poll();
            if (type.isSealed()) {
                todo.addAll(List.of(type.getPermittedSubclasses()));
            }
            for (Method m : type.getDeclaredMethods()) {
                if (m.getName().equals("decode") && Modifier.isStatic(m.getModifiers())) {
                    withDecode.add(type.getSimpleName());
                }
            }
        }
        Set<String> fuzzed =
                DECODERS.stream().map(d -> d.owner().getSimpleName()).collect(Collectors.toCollection(TreeSet::new));
        assertEquals(withDecode, fuzzed, "message types with a static decode vs. the decoders fuzzed here");
    }

    @Example
    void everyTypeByteHasADescription() {
        for (int b = 0; b < 256; b++) {
            assertNotNull(MessageType.describe((byte) b));
        }
    }

    @Property
    void randomBodiesDecodeOrAreAProtocolViolation(
            @ForAll("decoders") Decoder decoder, @ForAll @Size(max = 300) byte[] body) {
        check(decoder, body);
    }

    @Property
    void bodiesMadeOfProtocolTokensDecodeOrAreAProtocolViolation(
            @ForAll("decoders") Decoder decoder, @ForAll("tokenBodies") byte[] body) {
        check(decoder, body);
    }

    @Property
    void mutatedValidMessagesDecodeOrAreAProtocolViolation(
            @ForAll("examples") MessageExamples.Example example, @ForAll("mutations") List<Mutation> mutations) {
        Decoder decoder = new Decoder(
                example.name(),
                example.message().getClass(),
                example.decoder(),
                example.isStartupPacket() ? 4 : Frame.HEADER_LENGTH);
        check(decoder, Mutation.applyAll(bodyOf(example.message(), decoder.header()), mutations));
    }

    // ---- the check ------------------------------------------------------------------------------

    private static void check(Decoder decoder, byte[] body) {
        Bounded.call(decoder.name(), () -> {
            checkOnce(decoder, body);
            return null;
        });
    }

    private static void checkOnce(Decoder decoder, byte[] body) {
        TrackingAllocator alloc = new TrackingAllocator();
        // The body sits inside a bigger buffer, as a frame's body does: a decoder must stay within its slice.
        ByteBuf wire = alloc.heapBuffer(body.length + 8)
                .writeBytes(new byte[] {'?', 0x7f, 0x7f, 0x7f, 0x7f})
                .writeBytes(body)
                .writeBytes(new byte[] {0, 0, 0});
        ByteBuf slice = wire.slice(5, body.length);
        String input = decoder.name() + " of " + HEX.formatHex(body);
        Object decoded = null;
        try {
            decoded = decoder.decode().apply(slice);
            assertNotNull(decoded, () -> input + " returned null");
        } catch (ProtocolException violation) {
            assertEquals(SqlState.PROTOCOL_VIOLATION, violation.sqlState(), () -> input + ": " + violation);
            String message = violation.getMessage();
            assertTrue(
                    message != null && !message.isEmpty() && !message.endsWith("."),
                    () -> input + ": message phrased as PostgreSQL's: " + message);
        } catch (RuntimeException e) {
            throw new AssertionError(input + " threw " + e + " instead of a ProtocolException", e);
        }
        assertEquals(1, wire.refCnt(), () -> input + ": decode must neither retain nor release its input");
        wire.release();
        alloc.assertAllReleased(input);
        if (decoded instanceof Message message && decoder.header() > 0) {
            assertRoundTrip(decoder, message, input);
        }
    }

    /** What decode returned encodes to bytes that decode to the same message. */
    private static void assertRoundTrip(Decoder decoder, Message message, String input) {
        byte[] again = bodyOf(message, decoder.header());
        ByteBuf buf = Unpooled.wrappedBuffer(again);
        try {
            Object decodedAgain = decoder.decode().apply(buf);
            assertEquals(message, decodedAgain, () -> input + ": decode(encode(decode(body)))");
        } catch (ProtocolException e) {
            throw new AssertionError(input + " decoded to " + message + ", whose encoding does not decode: " + e, e);
        } finally {
            buf.release();
        }
    }

    /** The body {@code encode} writes after its header. */
    private static byte[] bodyOf(Message message, int header) {
        ByteBuf out = Unpooled.buffer();
        try {
            message.encode(out);
            byte[] body = new byte[out.readableBytes() - header];
            out.getBytes(header, body);
            return body;
        } finally {
            out.release();
        }
    }

    // ---- generators -----------------------------------------------------------------------------

    @Provide
    Arbitrary<Decoder> decoders() {
        return Arbitraries.of(DECODERS);
    }

    @Provide
    Arbitrary<MessageExamples.Example> examples() {
        return Arbitraries.of(MessageExamples.all().toList());
    }

    @Provide
    Arbitrary<List<Mutation>> mutations() {
        return Mutation.some();
    }

    /** Bodies made of what message bodies are made of, so that decoders get past their first field. */
    @Provide
    Arbitrary<byte[]> tokenBodies() {
        Arbitrary<byte[]> int8 = Arbitraries.frequencyOf(
                        Tuple.of(
                                3,
                                Arbitraries.of(
                                        0, (int) 'S', (int) 'P', (int) 'I', (int) 'T', (int) 'E', (int) 'M', 0xff)),
                        Tuple.of(1, Arbitraries.integers().between(0, 255)))
                .map(v -> WireBytes.body().int8(v).build());
        Arbitrary<byte[]> int16 = Arbitraries.frequencyOf(
                        Tuple.of(3, Arbitraries.of(0, 1, 2, 3, 0x7fff, 0x8000, 0xffff)),
                        Tuple.of(1, Arbitraries.integers().between(0, 0xffff)))
                .map(v -> WireBytes.body().int16(v).build());
        Arbitrary<byte[]> int32 = Arbitraries.frequencyOf(
                        Tuple.of(
                                3,
                                Arbitraries.of(
                                        -2,
                                        -1,
                                        0,
                                        1,
                                        3,
                                        4,
                                        5,
                                        10,
                                        11,
                                        12,
                                        13,
                                        256,
                                        Integer.MAX_VALUE,
                                        Integer.MIN_VALUE,
                                        StartupMessage.PROTOCOL_3_0,
                                        StartupPacket.CANCEL_REQUEST_CODE,
                                        StartupPacket.SSL_REQUEST_CODE,
                                        StartupPacket.GSSENC_REQUEST_CODE)),
                        Tuple.of(1, Arbitraries.integers()))
                .map(v -> WireBytes.body().int32(v).build());
        Arbitrary<byte[]> cstring = Arbitraries.frequencyOf(
                        Tuple.of(3, Arbitraries.of("", "s1", "user", "SCRAM-SHA-256", "n,,n=,r=abc", "é")),
                        Tuple.of(1, Arbitraries.strings().ofMaxLength(8)))
                .map(s -> WireBytes.body().cstring(s).build());
        Arbitrary<byte[]> raw = Arbitraries.bytes().array(byte[].class).ofMaxSize(8);
        Arbitrary<byte[]> token = Arbitraries.frequencyOf(
                Tuple.of(2, int8), Tuple.of(2, int16), Tuple.of(3, int32), Tuple.of(3, cstring), Tuple.of(1, raw));
        return Combinators.combine(token.list().ofMaxSize(10), Arbitraries.of(true, false))
                .as((tokens, terminated) -> {
                    WireBytes body = WireBytes.body();
                    tokens.forEach(body::bytes);
                    if (terminated) {
                        body.int8(0);
                    }
                    return body.build();
                });
    }

    private static Decoder typed(String name, Class<?> owner, Function<ByteBuf, ?> decode) {
        return new Decoder(name, owner, decode, Frame.HEADER_LENGTH);
    }

    private static Decoder untyped(String name, Class<?> owner, Function<ByteBuf, ?> decode) {
        return new Decoder(name, owner, decode, 4);
    }
}
