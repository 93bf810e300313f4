package io.pgmux;

import io.pgmux.testkit.TestPostgres;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.function.Function;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * One pgmux for a test class, in front of {@link TestPostgres#shared()}: register it in a static field with
 * {@code @RegisterExtension}. The function given to the constructor prepares PostgreSQL (users, databases) and returns
 * the content of the {@code pgmux { }} block. After each test every pool must have its servers back; after the class
 * pgmux stops (see {@link TestProxy#close()}).
 */
public final class PgmuxExtension implements BeforeAllCallback, AfterEachCallback, AfterAllCallback {
    private final Function<TestPostgres, String> settings;
    private TestPostgres pg;
    private TestProxy proxy;

    public PgmuxExtension(Function<TestPostgres, String> settings) {
        this.settings = settings;
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        pg = TestPostgres.shared();
        proxy = TestProxy.start(settings.apply(pg));
    }

    @Override
    public void afterEach(ExtensionContext context) {
        proxy.awaitAllReleased();
    }

    @Override
    public void afterAll(ExtensionContext context) {
        if (proxy != null) {
            proxy.close();
        }
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
