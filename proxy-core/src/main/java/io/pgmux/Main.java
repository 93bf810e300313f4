package io.pgmux;

import io.pgmux.config.ConfigException;
import io.pgmux.config.ConfigLoader;
import io.pgmux.config.DurationFormat;
import io.pgmux.config.PgmuxConfig;
import io.pgmux.testkit.TestPostgres;
import io.pgmux.tls.TlsContexts;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;
import sun.misc.SignalHandler;

/**
 * The command line: run the proxy, {@code demo} (an embedded PostgreSQL behind pgmux) and {@code
 * check} (validate a config). Exit status 0 after a clean stop, 2 for a bad command line or config.
 */
public final class Main {
    private static final Logger log = LoggerFactory.getLogger(Main.class);
    static final int EXIT_OK = 0;
    static final int EXIT_FAILURE = 1;
    static final int EXIT_USAGE = 2;

    private Main() {}

    /**
     * Netty's leak detector samples one buffer in {@value #LEAK_SAMPLING_INTERVAL} here, not one in 128 (its default):
     * each sample records a stack trace, about 1 % of the event loops' CPU under pgbench -S. Leaks are still reported;
     * {@code -Dio.netty.leakDetection.samplingInterval} or {@code -Dio.netty.leakDetection.level} (the tests run
     * paranoid) override this.
     */
    static final int LEAK_SAMPLING_INTERVAL = 4096;

    public static void main(String[] args) {
        if (System.getProperty("io.netty.leakDetection.samplingInterval") == null) {
            System.setProperty("io.netty.leakDetection.samplingInterval", Integer.toString(LEAK_SAMPLING_INTERVAL));
        }
        System.exit(run(args, System.out, System.err));
    }

    static int run(String[] args, PrintStream out, PrintStream err) {
        List<String> rest = new ArrayList<>(List.of(args));
        String command = "run";
        if (!rest.isEmpty() && !rest.get(0).startsWith("-")) {
            command = rest.remove(0);
        }
        Optional<Path> configFile = Optional.empty();
        Integer demoPort = null;
        for (int i = 0; i < rest.size(); i++) {
            String arg = rest.get(i);
            switch (arg) {
                case "--version", "-V" -> {
                    out.println("pgmux " + version());
                    return EXIT_OK;
                }
                case "--help", "-h" -> {
                    out.print(usage());
                    return EXIT_OK;
                }
                case "--config", "-c" -> {
                    if (i + 1 >= rest.size()) {
                        err.println("pgmux: --config needs a file");
                        return EXIT_USAGE;
                    }
                    configFile = Optional.of(Path.of(rest.get(++i)));
                }
                case "--port", "-p" -> {
                    if (i + 1 >= rest.size()) {
                        err.println("pgmux: --port needs a number");
                        return EXIT_USAGE;
                    }
                    try {
                        demoPort = Integer.parseInt(rest.get(++i));
                    } catch (NumberFormatException e) {
                        err.println("pgmux: --port needs a number, got " + rest.get(i));
                        return EXIT_USAGE;
                    }
                }
                default -> {
                    err.println("pgmux: unknown argument " + arg);
                    err.print(usage());
                    return EXIT_USAGE;
                }
            }
        }
        if (configFile.isPresent() && !Files.isReadable(configFile.get())) {
            err.println("pgmux: cannot read config file " + configFile.get());
            return EXIT_USAGE;
        }
        return switch (command) {
            case "run" -> runProxy(configFile.or(Main::defaultConfigFile), err);
            case "check" -> check(configFile.or(Main::defaultConfigFile), out, err);
            case "demo" ->
                demo(
                        Optional.ofNullable(demoPort),
                        System.getenv(),
                        System.getProperties(),
                        TestPostgres::start,
                        out,
                        err);
            default -> {
                err.println("pgmux: unknown command " + command);
                err.print(usage());
                yield EXIT_USAGE;
            }
        };
    }

    private static Optional<Path> defaultConfigFile() {
        Path local = Path.of("pgmux.conf");
        return Files.isReadable(local) ? Optional.of(local) : Optional.empty();
    }

    private static int check(Optional<Path> file, PrintStream out, PrintStream err) {
        try {
            PgmuxConfig config = ConfigLoader.load(file);
            TlsContexts.from(config.tls());
            out.println("# effective configuration" + file.map(f -> " of " + f).orElse(" (built-in defaults)"));
            out.print(ConfigLoader.describe(config));
            out.println();
            return EXIT_OK;
        } catch (ConfigException e) {
            printProblems(e, err);
            return EXIT_USAGE;
        }
    }

    private static int runProxy(Optional<Path> file, PrintStream err) {
        PgmuxConfig config;
        TlsContexts tls;
        try {
            config = ConfigLoader.load(file);
            tls = TlsContexts.from(config.tls());
        } catch (ConfigException e) {
            printProblems(e, err);
            return EXIT_USAGE;
        }
        return serve(new PgmuxServer(config, tls, () -> ConfigLoader.load(file)), err, () -> {});
    }

    /** Runs pgmux until SIGTERM or SIGINT, then stops it and runs {@code afterStop}. */
    private static int serve(PgmuxServer server, PrintStream err, Runnable afterStop) {
        PgmuxConfig config = server.config();
        try {
            server.start();
        } catch (Exception e) {
            err.println("pgmux: cannot listen on " + config.listen().host() + ":"
                    + config.listen().port() + ": " + e);
            server.close();
            afterStop.run();
            return EXIT_FAILURE;
        }
        CountDownLatch stop = new CountDownLatch(1);
        Signal.handle(new Signal("TERM"), s -> stop.countDown());
        Signal.handle(new Signal("INT"), s -> stop.countDown());
        // The console's SHUTDOWN stops the server by itself; the process then ends too.
        server.stopped().thenRun(stop::countDown);
        // The reload runs on pgmux's maintenance thread; a refused one has already logged why.
        SignalHandler before = Signal.handle(new Signal("HUP"), s -> {
            log.info("SIGHUP received: reloading the configuration");
            server.reload();
        });
        if (before == SignalHandler.SIG_IGN) {
            // The JVM keeps a signal its parent ignored (nohup does that to SIGHUP) ignored, and says nothing.
            log.warn("SIGHUP is ignored in this process (started under nohup?): kill -HUP will not reload the"
                    + " configuration; use the admin console's RELOAD, or start pgmux without nohup");
        }
        try {
            stop.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        log.info(
                "stopping: running transactions may finish within shutdown-timeout ({})",
                DurationFormat.of(config.shutdownTimeout()));
        server.drain(server.config().shutdownTimeout());
        afterStop.run();
        return EXIT_OK;
    }

    /**
     * The demo's settings for a PostgreSQL at {@code pgHost:pgPort}, listening where pgmux does by default
     * (reference.conf), under the same {@code PGMUX_*} and {@code -Dpgmux.*} overrides as a config file: two demos
     * run side by side with {@code PGMUX_LISTEN_PORT} and {@code PGMUX_METRICS_PORT} (or
     * {@code PGMUX_METRICS_ENABLED=false}). {@code --port} wins over both.
     */
    static PgmuxConfig demoConfig(
            String pgHost, int pgPort, Optional<Integer> port, Map<String, String> env, Properties systemProperties)
            throws ConfigException {
        Properties properties = new Properties();
        properties.putAll(systemProperties);
        port.ifPresent(p -> properties.setProperty("pgmux.listen.port", Integer.toString(p)));
        return ConfigLoader.fromString(
                String.format(
                        """
                        pgmux {
                          auth { type = scram-sha-256, users { demo { password = "demo" }, pgmux { password = "pgmux" } } }
                          databases { demo { host = "%s", port = %d } }
                        }
                        """,
                        pgHost, pgPort),
                env,
                properties);
    }

    // The demo's PostgreSQL address before there is one: the settings are checked with it, so that a bad PGMUX_* or
    // -Dpgmux.* override is reported before the slow PostgreSQL start rather than after it.
    private static final String PLACEHOLDER_HOST = "127.0.0.1";
    private static final int PLACEHOLDER_PORT = 5432;

    /**
     * {@code pgmux demo}: checks the settings ({@code env}, {@code systemProperties}, TLS files) first, and only when they
     * are usable starts PostgreSQL with {@code startPostgres}, then pgmux in front of it until SIGTERM or SIGINT.
     */
    static int demo(
            Optional<Integer> port,
            Map<String, String> env,
            Properties systemProperties,
            Supplier<TestPostgres> startPostgres,
            PrintStream out,
            PrintStream err) {
        try {
            TlsContexts.from(demoConfig(PLACEHOLDER_HOST, PLACEHOLDER_PORT, port, env, systemProperties)
                    .tls());
        } catch (ConfigException e) {
            printProblems(e, err);
            return EXIT_USAGE;
        }
        TestPostgres postgres;
        try {
            postgres = startPostgres.get();
            postgres.createUser("demo", "demo");
            postgres.createDatabase("demo", "demo");
            try (Connection c = postgres.connect("demo");
                    Statement s = c.createStatement()) {
                s.execute("GRANT ALL ON SCHEMA public TO demo");
            }
        } catch (RuntimeException | SQLException e) {
            err.println("pgmux demo: cannot start PostgreSQL: " + e.getMessage());
            return EXIT_FAILURE;
        }
        PgmuxConfig config;
        TlsContexts tls;
        try {
            config = demoConfig(postgres.host(), postgres.port(), port, env, systemProperties);
            tls = TlsContexts.from(config.tls());
        } catch (ConfigException e) {
            printProblems(e, err);
            postgres.close();
            return EXIT_USAGE;
        }
        String pgmux = config.listen().host() + ":" + config.listen().port();
        out.printf(
                "pgmux demo: PostgreSQL %d on %s:%d, pgmux on %s%n"
                        + "  connect with:  psql postgresql://demo:demo@%s/demo%n"
                        + "  admin console: psql postgresql://pgmux:pgmux@%s/pgmux  (SHOW POOLS;)%n",
                postgres.majorVersion(), postgres.host(), postgres.port(), pgmux, pgmux, pgmux);
        if (config.metrics().enabled()) {
            out.printf(
                    "  metrics:       http://%s:%d/metrics%n",
                    config.metrics().host(), config.metrics().port());
        }
        out.printf("  stop with Ctrl-C%n");
        out.flush();
        return serve(new PgmuxServer(config, tls), err, postgres::close);
    }

    private static void printProblems(ConfigException e, PrintStream err) {
        err.println("pgmux: invalid configuration:");
        e.problems().forEach(p -> err.println("  " + p));
    }

    /** pgmux's version, from the build; "unknown" when run from classes without it. */
    public static String version() {
        try (InputStream in = Main.class.getResourceAsStream("version.properties")) {
            Properties properties = new Properties();
            if (in != null) {
                properties.load(in);
            }
            return properties.getProperty("version", "unknown");
        } catch (IOException e) {
            return "unknown";
        }
    }

    private static String usage() {
        return """
                usage: pgmux [--config FILE]          run the proxy (default config: ./pgmux.conf if present)
                       pgmux demo [--port N]          embedded PostgreSQL behind pgmux on port N (6432);
                                                      PGMUX_* variables apply as to a config file
                       pgmux check --config FILE      validate a config and print the effective settings
                       pgmux --version | --help
                signals: SIGTERM/SIGINT stop pgmux (exit 0)
                """;
    }
}
