package io.pgmux.protocol.auth;

import static io.pgmux.protocol.auth.ScramAttributes.require;

import io.pgmux.protocol.ProtocolException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Optional;

/**
 * pgmux's side when a client authenticates with SCRAM-SHA-256 (no channel binding): client-first →
 * server-first, client-final → server-final or failure. One instance per login, used in order.
 * A successful exchange also recovers the client's ClientKey, with which pgmux can log in to a
 * PostgreSQL that stores the same verifier.
 */
public final class ScramServerExchange {
    public static final String MECHANISM = "SCRAM-SHA-256";

    private final ScramVerifier verifier;
    private final SecureRandom random;
    private String gs2Header;
    private String clientFirstBare;
    private String serverFirst;
    private String nonce;
    private byte[] clientKey;

    public ScramServerExchange(ScramVerifier verifier, SecureRandom random) {
        this.verifier = verifier;
        this.random = random;
    }

    /** Answers the client-first-message with the server-first-message. */
    public String serverFirst(String clientFirst) {
        if (clientFirst.startsWith("p=")) {
            throw new ProtocolException("SCRAM channel binding is not supported by pgmux; use SCRAM-SHA-256");
        }
        if (!clientFirst.startsWith("n,") && !clientFirst.startsWith("y,")) {
            throw new ProtocolException("malformed SCRAM message: unexpected channel binding flag");
        }
        int bareStart = clientFirst.indexOf(',', 2);
        if (bareStart < 0) {
            throw new ProtocolException("malformed SCRAM message: no GS2 header");
        }
        gs2Header = clientFirst.substring(0, bareStart + 1);
        clientFirstBare = clientFirst.substring(bareStart + 1);
        ScramAttributes.check(clientFirstBare);
        String clientNonce = require(clientFirstBare, 'r');
        if (clientNonce.isEmpty()) {
            throw new ProtocolException("malformed SCRAM message: empty client nonce");
        }
        nonce = clientNonce + serverNonce();
        serverFirst = "r=" + nonce + ",s=" + Base64.getEncoder().encodeToString(verifier.salt()) + ",i="
                + verifier.iterations();
        return serverFirst;
    }

    /**
     * Checks the client-final-message; returns the server-final-message when the proof is right, and
     * empty when the password is wrong.
     */
    public Optional<String> serverFinal(String clientFinal) {
        if (serverFirst == null) {
            throw new IllegalStateException("serverFirst not called");
        }
        ScramAttributes.check(clientFinal);
        String channelBinding;
        try {
            channelBinding = new String(Base64.getDecoder().decode(require(clientFinal, 'c')), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw new ProtocolException("malformed SCRAM message: channel binding is not base64");
        }
        if (!channelBinding.equals(gs2Header)) {
            throw new ProtocolException("malformed SCRAM message: channel binding does not match");
        }
        if (!require(clientFinal, 'r').equals(nonce)) {
            throw new ProtocolException("malformed SCRAM message: nonce does not match");
        }
        int proofStart = clientFinal.lastIndexOf(",p=");
        if (proofStart < 0) {
            throw new ProtocolException("malformed SCRAM message: proof missing");
        }
        byte[] proof;
        try {
            proof = Base64.getDecoder().decode(clientFinal.substring(proofStart + 3));
        } catch (IllegalArgumentException e) {
            throw new ProtocolException("malformed SCRAM message: proof is not base64");
        }
        byte[] authMessage = (clientFirstBare + "," + serverFirst + "," + clientFinal.substring(0, proofStart))
                .getBytes(StandardCharsets.UTF_8);
        byte[] storedKey = verifier.storedKey();
        byte[] clientSignature = Sha256.hmac(storedKey, authMessage);
        if (proof.length != clientSignature.length) {
            return Optional.empty();
        }
        byte[] candidateKey = ScramAttributes.xor(proof, clientSignature);
        if (!MessageDigest.isEqual(Sha256.hash(candidateKey), storedKey)) {
            return Optional.empty();
        }
        clientKey = candidateKey;
        byte[] serverSignature = Sha256.hmac(verifier.serverKey(), authMessage);
        return Optional.of("v=" + Base64.getEncoder().encodeToString(serverSignature));
    }

    /**
     * 18 random bytes in base64, as PostgreSQL makes its part of the nonce: one draw from {@code random}, where
     * {@code ScramFunctions.nonce} draws once per character.
     */
    private String serverNonce() {
        byte[] raw = new byte[18];
        random.nextBytes(raw);
        return Base64.getEncoder().encodeToString(raw);
    }

    /** The client's ClientKey, known after a successful {@link #serverFinal}. */
    public Optional<byte[]> clientKey() {
        return Optional.ofNullable(clientKey).map(byte[]::clone);
    }
}
