package io.pgmux.protocol.auth;

import static io.pgmux.protocol.auth.ScramAttributes.require;

import com.ongres.scram.common.ScramFunctions;
import io.pgmux.protocol.PgmuxException;
import io.pgmux.protocol.ProtocolException;
import io.pgmux.protocol.SqlState;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;

/**
 * pgmux's side when it logs in to PostgreSQL with SCRAM-SHA-256: client-first, then client-final
 * for the server-first, then a check of the server-final. Works from a password, or from the keys
 * of a verifier plus the ClientKey a client revealed in its own SCRAM login (PgBouncer's
 * pass-through), in which case salt and iterations must match the server's.
 */
public final class ScramClientExchange {
    private static final String GS2_HEADER = "n,,";

    private final String password;
    private final ScramVerifier passThroughVerifier;
    private final byte[] passThroughClientKey;
    private final String clientNonce;
    private String clientFirstBare;
    private byte[] serverSignature;

    private ScramClientExchange(String password, ScramVerifier verifier, byte[] clientKey, SecureRandom random) {
        this.password = password;
        this.passThroughVerifier = verifier;
        this.passThroughClientKey = clientKey;
        this.clientNonce = ScramFunctions.nonce(18, random);
    }

    public static ScramClientExchange withPassword(String password, SecureRandom random) {
        return new ScramClientExchange(password, null, null, random);
    }

    public static ScramClientExchange withClientKey(ScramVerifier verifier, byte[] clientKey, SecureRandom random) {
        return new ScramClientExchange(null, verifier, clientKey.clone(), random);
    }

    public String clientFirst() {
        // PostgreSQL takes the user from the startup packet and ignores the SCRAM user name.
        clientFirstBare = "n=,r=" + clientNonce;
        return GS2_HEADER + clientFirstBare;
    }

    /** Answers the server-first-message with the client-final-message. */
    public String clientFinal(String serverFirst) {
        if (clientFirstBare == null) {
            throw new IllegalStateException("clientFirst not called");
        }
        ScramAttributes.check(serverFirst);
        String nonce = require(serverFirst, 'r');
        if (!nonce.startsWith(clientNonce) || nonce.length() == clientNonce.length()) {
            throw new ProtocolException("SCRAM server nonce does not extend the client nonce");
        }
        byte[] salt;
        int iterations;
        try {
            salt = Base64.getDecoder().decode(require(serverFirst, 's'));
            iterations = Integer.parseInt(require(serverFirst, 'i'));
        } catch (IllegalArgumentException e) {
            throw new ProtocolException("malformed SCRAM server-first-message: %s", e.getMessage());
        }
        if (iterations < 1 || salt.length == 0) {
            throw new ProtocolException(
                    "malformed SCRAM server-first-message: %d iterations, %d-byte salt", iterations, salt.length);
        }
        byte[] clientKey;
        byte[] serverKey;
        if (password != null) {
            byte[] salted = ScramVerifier.saltedPassword(password, salt, iterations);
            clientKey = ScramFunctions.clientKey(ScramVerifier.MECHANISM, salted);
            serverKey = ScramFunctions.serverKey(ScramVerifier.MECHANISM, salted);
        } else {
            if (!Arrays.equals(salt, passThroughVerifier.salt()) || iterations != passThroughVerifier.iterations()) {
                throw new PgmuxException(
                        SqlState.INVALID_PASSWORD,
                        "the SCRAM verifier configured in pgmux differs from the one stored in PostgreSQL (salt or iterations)");
            }
            clientKey = passThroughClientKey;
            serverKey = passThroughVerifier.serverKey();
        }
        String withoutProof =
                "c=" + Base64.getEncoder().encodeToString(GS2_HEADER.getBytes(StandardCharsets.UTF_8)) + ",r=" + nonce;
        byte[] authMessage =
                (clientFirstBare + "," + serverFirst + "," + withoutProof).getBytes(StandardCharsets.UTF_8);
        byte[] storedKey = Sha256.hash(clientKey);
        byte[] clientSignature = Sha256.hmac(storedKey, authMessage);
        serverSignature = Sha256.hmac(serverKey, authMessage);
        byte[] proof = ScramAttributes.xor(clientKey, clientSignature);
        return withoutProof + ",p=" + Base64.getEncoder().encodeToString(proof);
    }

    /** Checks the server-final-message; fails when the server could not prove it knows the verifier. */
    public void verifyServerFinal(String serverFinal) {
        ScramAttributes.check(serverFinal);
        String error = ScramAttributes.find(serverFinal, 'e');
        if (error != null) {
            throw new PgmuxException(SqlState.INVALID_PASSWORD, "SCRAM authentication failed: " + error);
        }
        byte[] signature;
        try {
            signature = Base64.getDecoder().decode(require(serverFinal, 'v'));
        } catch (IllegalArgumentException e) {
            throw new ProtocolException("malformed SCRAM server-final-message: signature is not base64");
        }
        if (serverSignature == null || !MessageDigest.isEqual(signature, serverSignature)) {
            throw new ProtocolException("SCRAM server signature is wrong");
        }
    }
}
