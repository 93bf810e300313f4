package io.pgmux;

import io.pgmux.testkit.TestPostgres;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.function.BiFunction;
import java.util.function.Function;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * One pgmux for a test class, in front of {@link TestPostgres#shared()}: register it in a static field with
 * {@code @RegisterExtension}. The function given to the constructor prepares PostgreSQL (users, databases) and returns
 * the content of the {@code pgmux { }} block. After each test every pool must have its servers back; after the class
 * pgmux stops (see {@link TestProxy#close()}). Made with {@link #withRelay}, it also puts a {@link FaultRelay} in front
 * of PostgreSQL for the settings to route databases through: the relay passes everything again after each test (before
 * the servers are expected back) and closes after pgmux.
 */
public final class PgmuxExtension implements BeforeAllCallback, AfterEachCallback, AfterAllCallback {
    private final BiFunction<TestPostgres, FaultRelay, String> settings;
    private final boolean wantsRelay;
    private TestPostgres pg;
    private FaultRelay relay;
    private TestProxy proxy;

    public PgmuxExtension(Function<TestPostgres, String> settings) {
        this((pg, relay) -> settings.apply(pg), false);
    }

    private PgmuxExtension(BiFunction<TestPostgres, FaultRelay, String> settings, boolean wantsRelay) {
        this.settings = settings;
        this.wantsRelay = wantsRelay;
    }

    /** As the constructor, with a {@link FaultRelay} to PostgreSQL that {@code settings} may route databases through. */
    static PgmuxExtension withRelay(BiFunction<TestPostgres, FaultRelay, String> settings) {
        return new PgmuxExtension(settings, true);
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        pg = TestPostgres.shared();
        if (wantsRelay) {
            relay = FaultRelay.start(pg.host(), pg.port());
        }
        proxy = TestProxy.start(settings.apply(pg, relay));
    }

    @Override
    public void afterEach(ExtensionContext context) {
        if (relay != null) {
            relay.pass();
        }
        proxy.awaitAllReleased();
    }

    @Override
    public void afterAll(ExtensionContext context) {
        try {
            if (proxy != null) {
                proxy.close();
            }
        } finally {
            if (relay != null) {
                relay.close();
            }
        }
    }

    /** The relay of {@link #withRelay}; fails for an extension made without one. */
    FaultRelay relay() {
        if (relay == null) {
            throw new IllegalStateException("this PgmuxExtension has no relay: make it with PgmuxExtension.withRelay");
        }
        return relay;
    }

    public TestPostgres postgres() {
        return pg;
    }

    public TestProxy proxy() {
        return proxy;
    }

    public PgmuxServer server() {
        return proxy.server();
    }

    public int port() {
        return proxy.port();
    }

    public String jdbcUrl(String database) {
        return proxy.jdbcUrl(database);
    }

    /** A pgjdbc connection through pgmux; see {@link TestProxy#connect}. */
    public Connection connect(String database, String user, String password, String... settings) throws SQLException {
        return proxy.connect(database, user, password, settings);
    }
}
