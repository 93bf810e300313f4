package io.pgmux.auth;

import io.netty.buffer.ByteBuf;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import io.pgmux.config.AuthType;
import io.pgmux.config.UserConfig;
import io.pgmux.protocol.ProtocolException;
import io.pgmux.protocol.auth.Md5;
import io.pgmux.protocol.auth.ScramServerExchange;
import io.pgmux.protocol.auth.ScramVerifier;
import io.pgmux.protocol.message.Authentication;
import io.pgmux.protocol.message.BackendMessage;
import io.pgmux.protocol.message.PasswordMessage;
import io.pgmux.protocol.message.SaslInitialResponse;
import io.pgmux.protocol.message.SaslResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Authenticates clients as {@code auth.type} asks (trust, plain, md5, scram-sha-256) against the
 * {@link UserDirectory}, or, for users it does not list, against what {@link AuthQuery} finds on
 * PostgreSQL. An unknown user goes through the same exchange as a known one and fails at the end,
 * as PostgreSQL does, so that user names cannot be probed.
 */
public final class ClientAuthenticator {
    private static final Logger log = LoggerFactory.getLogger(ClientAuthenticator.class);

    /**
     * What logins are checked against: {@code auth.type} and the users of one configuration. Replaced whole on reload,
     * and taken once per login, so that no login pairs the type of one configuration with the users of another.
     */
    private record Settings(AuthType type, UserDirectory users) {}

    private volatile Settings settings;
    private final AuthQuery query;

    public ClientAuthenticator(AuthType type, UserDirectory users, AuthQuery query) {
        this.settings = new Settings(type, users);
        this.query = query;
    }

    /** Takes a reloaded configuration: logins that start from now on use {@code type} and {@code users}. */
    public void reconfigure(AuthType type, UserDirectory users) {
        this.settings = new Settings(type, users);
    }

    public UserDirectory users() {
        return settings.users();
    }

    /** The next thing to do in a login. */
    public sealed interface Step {
        /** Send these and wait for the client's next password message. */
        record Challenge(BackendMessage message) implements Step {}

        /**
         * Logged in; send {@code finalMessage} (if any) before AuthenticationOk.
         *
         * @param scramClientKey the ClientKey the client proved in a SCRAM login
         * @param queriedPassword for a user {@code auth.query} found: what pgmux logs in to PostgreSQL with as that
         *     user (the secret the query returned, or the client's own password under {@code auth.type = plain})
         */
        record Success(
                Optional<BackendMessage> finalMessage,
                Optional<byte[]> scramClientKey,
                Optional<String> queriedPassword)
                implements Step {}

        /** Wrong password or unknown user: 28P01. */
        record Failure(String message) implements Step {}
    }

    /**
     * Starts a login for {@code user} to {@code database}. A user the directory lists is ready at once; any other
     * runs {@code auth.query} first (unless it is off, or {@code auth.type = trust} needs no secret). The future
     * completes on {@code loop}, or fails with a {@code PgmuxException} when the query cannot run.
     */
    public Future<Exchange> begin(String user, String database, EventLoop loop, String clientName) {
        Settings current = settings;
        Optional<String> known = current.users().find(user).map(UserConfig::password);
        if (known.isPresent() || current.type() == AuthType.TRUST || !query.appliesTo(database)) {
            return loop.newSucceededFuture(new Exchange(current, user, known, false));
        }
        Promise<Exchange> begun = loop.newPromise();
        Future<Optional<String>> lookup = query.lookup(database, user, loop, clientName);
        lookup.addListener(f -> {
            if (lookup.isSuccess()) {
                begun.setSuccess(new Exchange(current, user, lookup.getNow(), true));
            } else {
                begun.setFailure(lookup.cause());
            }
        });
        return begun;
    }

    /** One client's login, driven by {@link #start} and then {@link #onPassword} per 'p' message. */
    public final class Exchange {
        /** Those in force when the login began, for the whole login. */
        private final Settings settings;

        private final String user;
        /** The stored password, MD5 hash or SCRAM verifier; empty for an unknown user. */
        private final Optional<String> secret;
        /** The secret came from auth.query, not from pgmux's configuration. */
        private final boolean queried;

        private byte[] md5Salt;
        private ScramServerExchange scram;
        private boolean scramFirstDone;

        private Exchange(Settings settings, String user, Optional<String> secret, boolean queried) {
            this.settings = settings;
            this.user = user;
            this.secret = secret;
            this.queried = queried;
        }

        public Step start() {
            AuthType method = settings.type();
            if (method == AuthType.TRUST) {
                return new Step.Success(Optional.empty(), Optional.empty(), Optional.empty());
            }
            if (method == AuthType.MD5 && secret.map(ScramVerifier::isVerifier).orElse(false)) {
                // As PostgreSQL does: an md5 rule with a SCRAM-stored password uses SCRAM.
                method = AuthType.SCRAM_SHA_256;
            }
            switch (method) {
                case PLAIN:
                    return new Step.Challenge(new Authentication.CleartextPassword());
                case MD5:
                    md5Salt = new byte[4];
                    settings.users().random().nextBytes(md5Salt);
                    return new Step.Challenge(new Authentication.Md5Password(md5Salt));
                default:
                    Optional<ScramVerifier> stored =
                            secret.flatMap(s -> settings.users().scramVerifier(user, s));
                    ScramVerifier verifier = stored.orElseGet(() -> ScramVerifier.fromPassword(
                            randomPassword(), settings.users().random()));
                    if (secret.isPresent() && stored.isEmpty()) {
                        log.warn(
                                "user \"{}\" has an MD5 password {}, which cannot verify a SCRAM login; the login will"
                                        + " fail (auth.type = md5 would accept it)",
                                user,
                                queried ? "in PostgreSQL (found by auth.query)" : "in pgmux's configuration");
                    }
                    scram = new ScramServerExchange(verifier, settings.users().random());
                    return new Step.Challenge(new Authentication.Sasl(List.of(ScramServerExchange.MECHANISM)));
            }
        }

        /** Handles the body of a client 'p' message. */
        public Step onPassword(ByteBuf body) {
            if (scram != null) {
                return onScram(body);
            }
            String response = PasswordMessage.decode(body).password();
            if (secret.isEmpty()) {
                return failure();
            }
            String stored = secret.get();
            boolean ok = md5Salt != null ? verifyMd5(stored, response) : verifyPlain(stored, response);
            if (!ok) {
                return failure();
            }
            // Under plain the client's own password is known, which answers whatever PostgreSQL asks for.
            Optional<String> serverPassword = md5Salt != null ? Optional.of(stored) : Optional.of(response);
            return new Step.Success(Optional.empty(), Optional.empty(), queried ? serverPassword : Optional.empty());
        }

        private Step onScram(ByteBuf body) {
            if (!scramFirstDone) {
                SaslInitialResponse initial = SaslInitialResponse.decode(body);
                if (!initial.mechanism().equals(ScramServerExchange.MECHANISM)) {
                    throw new ProtocolException(
                            "SASL authentication mechanism \"%s\" is not supported", initial.mechanism());
                }
                scramFirstDone = true;
                return new Step.Challenge(new Authentication.SaslContinue(scram.serverFirst(initial.data())));
            }
            Optional<String> serverFinal =
                    scram.serverFinal(SaslResponse.decode(body).data());
            if (serverFinal.isEmpty() || secret.isEmpty()) {
                return failure();
            }
            return new Step.Success(
                    Optional.of(new Authentication.SaslFinal(serverFinal.get())),
                    scram.clientKey(),
                    queried ? secret : Optional.empty());
        }

        private boolean verifyMd5(String stored, String response) {
            if (ScramVerifier.isVerifier(stored)) {
                return false;
            }
            String md5Stored = Md5.isMd5(stored) ? stored : Md5.encrypt(stored, user);
            return Md5.verify(md5Stored, md5Salt, response);
        }

        private boolean verifyPlain(String stored, String given) {
            if (Md5.isMd5(stored)) {
                return constantTimeEquals(stored, Md5.encrypt(given, user));
            }
            if (ScramVerifier.isVerifier(stored)) {
                ScramVerifier verifier = ScramVerifier.parse(stored);
                ScramVerifier candidate = ScramVerifier.fromPassword(given, verifier.salt(), verifier.iterations());
                return MessageDigest.isEqual(candidate.storedKey(), verifier.storedKey());
            }
            return constantTimeEquals(stored, given);
        }

        private Step failure() {
            return new Step.Failure(String.format("password authentication failed for user \"%s\"", user));
        }

        private String randomPassword() {
            byte[] bytes = new byte[16];
            settings.users().random().nextBytes(bytes);
            return java.util.HexFormat.of().formatHex(bytes);
        }
    }

    private static boolean constantTimeEquals(String a, String b) {
        return MessageDigest.isEqual(a.getBytes(StandardCharsets.UTF_8), b.getBytes(StandardCharsets.UTF_8));
    }
}
