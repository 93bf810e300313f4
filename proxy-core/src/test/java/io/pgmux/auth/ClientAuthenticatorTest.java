package io.pgmux.auth;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import io.netty.channel.DefaultEventLoop;
import io.netty.channel.EventLoop;
import io.pgmux.config.AuthType;
import io.pgmux.config.UserConfig;
import io.pgmux.protocol.message.Authentication;
import java.security.SecureRandom;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Logins against the users and auth.type of one configuration, also while a reload replaces them. */
class ClientAuthenticatorTest {
    private final EventLoop loop = new DefaultEventLoop();

    @AfterEach
    void stopLoop() {
        loop.shutdownGracefully();
    }

    /** A login begun before a reload keeps the auth.type it began with: it never meets the new type with old users. */
    @Test
    void aLoginKeepsTheTypeAndUsersItBeganWith() throws Exception {
        SecureRandom random = new SecureRandom();
        ClientAuthenticator authenticator = new ClientAuthenticator(
                AuthType.MD5, new UserDirectory(Map.of("app", new UserConfig("app", "secret")), random), null);
        ClientAuthenticator.Exchange exchange =
                authenticator.begin("app", "appdb", loop, "c1").get();

        authenticator.reconfigure(AuthType.TRUST, new UserDirectory(Map.of(), random));

        ClientAuthenticator.Step step = exchange.start();
        ClientAuthenticator.Step.Challenge challenge = assertInstanceOf(ClientAuthenticator.Step.Challenge.class, step);
        assertInstanceOf(Authentication.Md5Password.class, challenge.message());
    }
}
