package io.pgmux.server;

import io.netty.buffer.ByteBuf;
import io.pgmux.protocol.Frame;
import io.pgmux.protocol.MessageType;
import io.pgmux.protocol.PgmuxException;
import io.pgmux.protocol.ProtocolException;
import io.pgmux.protocol.SqlState;
import io.pgmux.protocol.auth.Md5;
import io.pgmux.protocol.auth.ScramClientExchange;
import io.pgmux.protocol.auth.ScramServerExchange;
import io.pgmux.protocol.auth.ScramVerifier;
import io.pgmux.protocol.message.Authentication;
import io.pgmux.protocol.message.BackendKeyData;
import io.pgmux.protocol.message.ErrorResponse;
import io.pgmux.protocol.message.Message;
import io.pgmux.protocol.message.ParameterStatus;
import io.pgmux.protocol.message.PasswordMessage;
import io.pgmux.protocol.message.SaslInitialResponse;
import io.pgmux.protocol.message.SaslResponse;
import java.security.SecureRandom;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Answers PostgreSQL's authentication requests (cleartext, MD5, SCRAM-SHA-256) and collects what
 * the server reports until its first ReadyForQuery. States: AUTHENTICATING → SETTING_UP → DONE.
 */
final class ServerLogin {
    private enum Phase {
        AUTHENTICATING,
        SETTING_UP,
        DONE
    }

    /** What the login produced. */
    record Result(Map<String, String> parameters, BackendKeyData backendKey) {}

    private static final SecureRandom RANDOM = new SecureRandom();

    private final ServerCredentials credentials;
    private final Map<String, String> parameters = new LinkedHashMap<>();
    private Phase phase = Phase.AUTHENTICATING;
    private ScramClientExchange scram;
    private BackendKeyData backendKey;
    /** Read at the first authentication request, once: a password and its ClientKey must belong together. */
    private ServerCredentials.Secret secret;

    ServerLogin(ServerCredentials credentials) {
        this.credentials = credentials;
    }

    /**
     * Handles one frame (without releasing it). Returns the reply to send, if any; sets {@link
     * #result()} when the server is ready; throws {@link PgmuxException} when login fails.
     */
    Optional<Message> handle(Frame frame) {
        ByteBuf body = frame.body();
        switch (frame.type()) {
            case MessageType.Backend.AUTHENTICATION:
                return onAuthentication(Authentication.decode(body));
            case MessageType.Backend.PARAMETER_STATUS:
                ParameterStatus status = ParameterStatus.decode(body);
                parameters.put(status.name(), status.value());
                return Optional.empty();
            case MessageType.Backend.BACKEND_KEY_DATA:
                backendKey = BackendKeyData.decode(body);
                return Optional.empty();
            case MessageType.Backend.NOTICE_RESPONSE:
            case MessageType.Backend.NEGOTIATE_PROTOCOL_VERSION:
                return Optional.empty();
            case MessageType.Backend.ERROR_RESPONSE:
                throw loginFailed(ErrorResponse.decode(body));
            case MessageType.Backend.READY_FOR_QUERY:
                if (phase != Phase.SETTING_UP) {
                    throw new ProtocolException("server sent ReadyForQuery before authentication finished");
                }
                phase = Phase.DONE;
                return Optional.empty();
            default:
                throw new ProtocolException(
                        "unexpected message %s from server during login", MessageType.describe(frame.type()));
        }
    }

    boolean isDone() {
        return phase == Phase.DONE;
    }

    Result result() {
        return new Result(Map.copyOf(parameters), backendKey);
    }

    private Optional<Message> onAuthentication(Authentication request) {
        if (phase != Phase.AUTHENTICATING) {
            throw new ProtocolException("server sent an authentication request after authentication finished");
        }
        if (request instanceof Authentication.Ok) {
            phase = Phase.SETTING_UP;
            return Optional.empty();
        }
        if (request instanceof Authentication.CleartextPassword) {
            return Optional.of(new PasswordMessage(plainPassword("cleartext")));
        }
        if (request instanceof Authentication.Md5Password md5) {
            String password = password("md5");
            String stored = Md5.isMd5(password) ? password : Md5.encrypt(password, credentials.user());
            return Optional.of(new PasswordMessage(Md5.saltedResponse(stored, md5.salt())));
        }
        if (request instanceof Authentication.Sasl sasl) {
            if (!sasl.mechanisms().contains(ScramServerExchange.MECHANISM)) {
                throw new PgmuxException(
                        SqlState.CONNECTION_FAILURE,
                        "server offers no SASL mechanism pgmux supports: %s",
                        sasl.mechanisms());
            }
            String password = password("SCRAM-SHA-256");
            if (ScramVerifier.isVerifier(password)) {
                byte[] clientKey = secret().scramClientKey()
                        .orElseThrow(() -> new PgmuxException(
                                SqlState.CONNECTION_FAILURE,
                                "cannot log in to the server as \"%s\" with SCRAM: pgmux holds only a SCRAM verifier for"
                                        + " this user and no client has logged in with SCRAM yet",
                                credentials.user()));
                scram = ScramClientExchange.withClientKey(ScramVerifier.parse(password), clientKey, RANDOM);
            } else if (Md5.isMd5(password)) {
                throw new PgmuxException(
                        SqlState.CONNECTION_FAILURE,
                        "cannot log in to the server as \"%s\" with SCRAM: pgmux holds only an MD5 hash of the password",
                        credentials.user());
            } else {
                scram = ScramClientExchange.withPassword(password, RANDOM);
            }
            return Optional.of(new SaslInitialResponse(ScramServerExchange.MECHANISM, scram.clientFirst()));
        }
        if (request instanceof Authentication.SaslContinue challenge) {
            requireScram();
            return Optional.of(new SaslResponse(scram.clientFinal(challenge.data())));
        }
        if (request instanceof Authentication.SaslFinal outcome) {
            requireScram();
            scram.verifyServerFinal(outcome.data());
            return Optional.empty();
        }
        throw new PgmuxException(
                SqlState.CONNECTION_FAILURE,
                "server asks for an authentication method pgmux does not support (code %d)",
                ((Authentication.Unsupported) request).code());
    }

    private void requireScram() {
        if (scram == null) {
            throw new ProtocolException("server sent a SASL message without starting SASL");
        }
    }

    private ServerCredentials.Secret secret() {
        if (secret == null) {
            secret = credentials.secret().get();
        }
        return secret;
    }

    private String password(String method) {
        return secret().password()
                .orElseThrow(() -> new PgmuxException(
                        SqlState.CONNECTION_FAILURE,
                        "server asks for a %s password for user \"%s\" and pgmux has none configured",
                        method,
                        credentials.user()));
    }

    private String plainPassword(String method) {
        String password = password(method);
        if (Md5.isMd5(password) || ScramVerifier.isVerifier(password)) {
            throw new PgmuxException(
                    SqlState.CONNECTION_FAILURE,
                    "server asks for a %s password for user \"%s\" and pgmux holds only a hash",
                    method,
                    credentials.user());
        }
        return password;
    }

    /** The server refused the login; "database does not exist" passes through as PostgreSQL said it. */
    private static PgmuxException loginFailed(ErrorResponse error) {
        if (error.sqlState().equals(SqlState.INVALID_CATALOG_NAME.code())) {
            return new PgmuxException(SqlState.INVALID_CATALOG_NAME, error.message());
        }
        return new PgmuxException(
                SqlState.CONNECTION_FAILURE,
                "server login failed: %s (SQLSTATE %s)",
                error.message(),
                error.sqlState());
    }
}
