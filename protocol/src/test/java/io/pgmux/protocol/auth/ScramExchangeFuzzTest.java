package io.pgmux.protocol.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import io.pgmux.protocol.ProtocolException;
import io.pgmux.protocol.SqlState;
import io.pgmux.protocol.fuzz.Bounded;
import io.pgmux.protocol.fuzz.FuzzTries;
import java.security.SecureRandom;
import java.util.List;
import java.util.Optional;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.lifecycle.AddLifecycleHook;

/**
 * Property-based fuzzing of pgmux's side of a SCRAM login, which any client reaches before it has authenticated:
 * whatever client-first and client-final messages arrive, {@link ScramServerExchange} answers, reports a wrong
 * password (empty), or refuses with 08P01; never another exception.
 */
@AddLifecycleHook(FuzzTries.class)
class ScramExchangeFuzzTest {
    private static final SecureRandom RANDOM = new SecureRandom();
    /** Few iterations: the fuzzing is about parsing, not key stretching. */
    private static final ScramVerifier VERIFIER = ScramVerifier.fromPassword("pencil", new byte[16], 16);

    private static final String CLIENT_FIRST = "n,,n=,r=fyko+d2lbbFgONRv9qkxdawL";

    @Property
    void anyClientFirstMessageIsAnsweredOrRefusedWith08P01(@ForAll("scramMessages") String clientFirst) {
        Bounded.call("serverFirst", () -> {
            ScramServerExchange exchange = new ScramServerExchange(VERIFIER, RANDOM);
            try {
                assertNotNull(exchange.serverFirst(clientFirst));
            } catch (ProtocolException e) {
                assertEquals(SqlState.PROTOCOL_VIOLATION, e.sqlState(), e::toString);
            } catch (RuntimeException e) {
                throw new AssertionError("serverFirst(\"" + clientFirst + "\") threw " + e, e);
            }
            return null;
        });
    }

    @Property
    void anyClientFinalMessageIsJudgedOrRefusedWith08P01(
            @ForAll("scramMessages") String clientFinal, @ForAll boolean withTheRightNonce) {
        Bounded.call("serverFinal", () -> {
            ScramServerExchange exchange = new ScramServerExchange(VERIFIER, RANDOM);
            String serverFirst = exchange.serverFirst(CLIENT_FIRST);
            String nonce = serverFirst.substring(2, serverFirst.indexOf(','));
            // With the right channel binding and nonce in front, the proof itself gets parsed and checked.
            String message = withTheRightNonce ? "c=biws,r=" + nonce + "," + clientFinal : clientFinal;
            try {
                Optional<String> outcome = exchange.serverFinal(message);
                assertNotNull(outcome);
            } catch (ProtocolException e) {
                assertEquals(SqlState.PROTOCOL_VIOLATION, e.sqlState(), e::toString);
            } catch (RuntimeException e) {
                throw new AssertionError("serverFinal(\"" + message + "\") threw " + e, e);
            }
            return null;
        });
    }

    /** Strings made of the pieces SCRAM messages are made of, and some that are not. */
    @Provide
    Arbitrary<String> scramMessages() {
        Arbitrary<String> piece = Arbitraries.frequencyOf(
                Tuple.of(
                        6,
                        Arbitraries.of(List.of(
                                "n,",
                                "y,",
                                "p=tls-unique,",
                                ",",
                                "n=",
                                "r=",
                                "c=",
                                "p=",
                                "s=",
                                "i=",
                                "a=",
                                "=",
                                "biws",
                                "eSws",
                                "dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
                                "==",
                                "\0",
                                "é"))),
                Tuple.of(1, Arbitraries.strings().ofMaxLength(6)));
        return piece.list().ofMaxSize(10).map(pieces -> String.join("", pieces));
    }
}
