package io.pgmux.admin;

import static io.pgmux.admin.AdminTable.n;
import static io.pgmux.admin.AdminTable.t;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.pgmux.Main;
import io.pgmux.config.ConfigException;
import io.pgmux.config.ConfigLoader;
import io.pgmux.config.DatabaseConfig;
import io.pgmux.config.PgmuxConfig;
import io.pgmux.config.PoolSettings;
import io.pgmux.directory.ClientSnapshot;
import io.pgmux.directory.ServerSnapshot;
import io.pgmux.metrics.ClientState;
import io.pgmux.metrics.PgmuxMeters;
import io.pgmux.metrics.PgmuxMetrics;
import io.pgmux.pool.Pool;
import io.pgmux.pool.PoolRegistry;
import io.pgmux.protocol.message.RowDescription.Column;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The console's SHOW results, with PgBouncer's column names and order (pgmux's own columns last). Everything is read
 * from snapshots that never block: {@link Pool#counts()}, the pools' client counts, the configuration and the meters.
 */
final class AdminViews {
    static final String VERSION = "pgmux " + Main.version();
    /** SHOW CONFIG's default column: reference.conf, bound. */
    private static final Map<String, String> DEFAULTS = defaults();

    private static final DateTimeFormatter TIMESTAMP =
            DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss 'UTC'").withZone(ZoneOffset.UTC);

    private final PoolRegistry registry;
    private final PgmuxMetrics metrics;

    AdminViews(PoolRegistry registry, PgmuxMetrics metrics) {
        this.registry = registry;
        this.metrics = metrics;
    }

    /** The table for {@code SHOW what}, or empty when pgmux does not know {@code what}. */
    Optional<AdminTable> show(String what) {
        return Optional.ofNullable(
                switch (what) {
                    case "VERSION" -> version();
                    case "POOLS" -> pools();
                    case "DATABASES" -> databases();
                    case "USERS" -> users();
                    case "LISTS" -> lists();
                    case "CONFIG" -> config();
                    case "STATS" -> stats();
                    default -> null;
                });
    }

    /**
     * The table for a {@code SHOW} that asks every event loop for its connections (CLIENTS, SERVERS); null for any
     * other, which {@link #show} answers at once.
     */
    CompletableFuture<AdminTable> showLater(String what) {
        return switch (what) {
            case "CLIENTS" -> registry.directory().clients().thenApply(this::clients);
            case "SERVERS" -> registry.directory().servers().thenApply(this::servers);
            default -> null;
        };
    }

    /** The columns of {@code SHOW what}, without building its rows; empty when pgmux does not know {@code what}. */
    Optional<List<Column>> columns(String what) {
        return switch (what) {
            case "CLIENTS" -> Optional.of(List.of(connectionColumns(true)));
            case "SERVERS" -> Optional.of(List.of(connectionColumns(false)));
            default -> show(what).map(AdminTable::columns);
        };
    }

    AdminTable version() {
        return new AdminTable.Builder(t("version")).row(VERSION).build();
    }

    AdminTable pools() {
        AdminTable.Builder b = new AdminTable.Builder(
                t("database"),
                t("user"),
                n("cl_active"),
                n("cl_waiting"),
                n("cl_active_cancel_req"),
                n("cl_waiting_cancel_req"),
                n("sv_active"),
                n("sv_active_cancel"),
                n("sv_being_canceled"),
                n("sv_idle"),
                n("sv_used"),
                n("sv_tested"),
                n("sv_login"),
                n("maxwait"),
                n("maxwait_us"),
                t("pool_mode"),
                t("load_balance_hosts"));
        for (Pool pool : sortedPools()) {
            Pool.Counts c = pool.counts();
            b.row(
                    pool.key().database(),
                    pool.key().user(),
                    clients(pool),
                    pool.metrics().clients(ClientState.WAITING),
                    0,
                    0,
                    c.leased(),
                    0,
                    0,
                    c.idle(),
                    0,
                    0,
                    c.connecting(),
                    // PgBouncer: maxwait in whole seconds, maxwait_us the microseconds beyond them.
                    TimeUnit.NANOSECONDS.toSeconds(c.maxWaitNanos()),
                    TimeUnit.NANOSECONDS.toMicros(c.maxWaitNanos()) % 1_000_000,
                    mode(pool.settings()),
                    null);
        }
        return b.build();
    }

    AdminTable databases() {
        PgmuxConfig config = registry.config();
        AdminTable.Builder b = new AdminTable.Builder(
                t("name"),
                t("host"),
                n("port"),
                t("database"),
                t("force_user"),
                n("pool_size"),
                n("min_pool_size"),
                n("reserve_pool_size"),
                n("server_lifetime"),
                t("pool_mode"),
                t("load_balance_hosts"),
                n("max_connections"),
                n("current_connections"),
                n("max_client_connections"),
                n("current_client_connections"),
                n("paused"),
                n("disabled"));
        // Configured entries, then the names the "*" entry stands in for that have pools now.
        Map<String, DatabaseConfig> entries = new TreeMap<>(config.databases());
        for (Pool pool : registry.pools()) {
            entries.putIfAbsent(pool.key().database(), pool.database());
        }
        for (DatabaseConfig db : entries.values()) {
            PoolSettings p = db.pool();
            long servers = 0;
            long clients = 0;
            for (Pool pool : registry.pools()) {
                if (pool.key().database().equals(db.name())) {
                    Pool.Counts c = pool.counts();
                    servers += c.open() + c.connecting();
                    clients += clients(pool) + pool.metrics().clients(ClientState.WAITING);
                }
            }
            b.row(
                    db.name(),
                    db.host(),
                    db.port(),
                    db.dbname(),
                    db.user().orElse(null),
                    p.size(),
                    p.minSize(),
                    p.reserveSize(),
                    p.serverLifetime().toSeconds(),
                    mode(p),
                    null,
                    p.maxDbConnections(),
                    servers,
                    0,
                    clients,
                    registry.isPaused(db.name()) ? 1 : 0,
                    0);
        }
        String admin = config.admin().database();
        b.row(admin, null, config.listen().port(), admin, null, 0, 0, 0, 0, "statement", null, 0, 0, 0, 0, 0, 0);
        return b.build();
    }

    AdminTable users() {
        PgmuxConfig config = registry.config();
        AdminTable.Builder b = new AdminTable.Builder(
                t("name"),
                n("pool_size"),
                n("reserve_pool_size"),
                t("pool_mode"),
                n("max_user_connections"),
                n("current_connections"),
                n("max_user_client_connections"),
                n("current_client_connections"));
        // The configured users, and those auth.query found once they logged in (with the pool defaults).
        Map<String, PoolSettings> users = new TreeMap<>();
        registry.queriedUsers().forEach(name -> users.put(name, config.pool()));
        config.auth()
                .users()
                .forEach((name, user) -> users.put(
                        name, user.pool().map(o -> o.over(config.pool())).orElse(config.pool())));
        users.forEach((name, p) -> {
            long servers = 0;
            long clients = 0;
            for (Pool pool : registry.pools()) {
                if (pool.key().user().equals(name)) {
                    Pool.Counts c = pool.counts();
                    servers += c.open() + c.connecting();
                    clients += clients(pool) + pool.metrics().clients(ClientState.WAITING);
                }
            }
            b.row(name, p.size(), p.reserveSize(), mode(p), p.maxUserConnections(), servers, 0, clients);
        });
        return b.build();
    }

    AdminTable lists() {
        PgmuxConfig config = registry.config();
        long usedClients = 0;
        long usedServers = 0;
        long freeServers = 0;
        long loginServers = 0;
        for (Pool pool : registry.pools()) {
            Pool.Counts c = pool.counts();
            usedClients += clients(pool) + pool.metrics().clients(ClientState.WAITING);
            usedServers += c.leased();
            freeServers += c.idle();
            loginServers += c.connecting();
        }
        long loginClients = metrics.beforeLogin().clients(ClientState.LOGIN);
        Map<String, Long> items = new LinkedHashMap<>();
        items.put("databases", (long) config.databases().size());
        Set<String> users = new HashSet<>(config.auth().users().keySet());
        users.addAll(registry.queriedUsers());
        items.put("users", (long) users.size());
        items.put("pools", (long) registry.pools().size());
        items.put("free_clients", 0L);
        items.put("used_clients", usedClients);
        items.put("login_clients", loginClients);
        items.put("free_servers", freeServers);
        items.put("used_servers", usedServers + loginServers);
        items.put("dns_names", 0L);
        items.put("dns_zones", 0L);
        items.put("dns_queries", 0L);
        items.put("dns_pending", 0L);
        AdminTable.Builder b = new AdminTable.Builder(t("list"), n("items"));
        items.forEach(b::row);
        return b.build();
    }

    AdminTable config() {
        Map<String, String> effective = ConfigLoader.settings(registry.config());
        AdminTable.Builder b = new AdminTable.Builder(t("key"), t("value"), t("default"), t("changeable"));
        for (Map.Entry<String, String> e : effective.entrySet()) {
            String key = e.getKey();
            // RELOAD applies everything but where pgmux listens.
            boolean changeable = !key.startsWith("listen.");
            b.row(key, e.getValue(), DEFAULTS.get(key), changeable ? "yes" : "no");
        }
        return b.build();
    }

    AdminTable stats() {
        MeterRegistry meters = metrics.registry();
        double uptimeSeconds = Math.max(1, ManagementFactory.getRuntimeMXBean().getUptime() / 1000.0);
        AdminTable.Builder b = new AdminTable.Builder(
                t("database"),
                n("total_xact_count"),
                n("total_query_count"),
                n("total_received"),
                n("total_sent"),
                n("total_xact_time"),
                n("total_query_time"),
                n("total_wait_time"),
                n("avg_xact_count"),
                n("avg_query_count"),
                n("avg_recv"),
                n("avg_sent"),
                n("avg_xact_time"),
                n("avg_query_time"),
                n("avg_wait_time"));
        TreeSet<String> databases = new TreeSet<>();
        registry.pools().forEach(p -> databases.add(p.key().database()));
        for (String db : databases) {
            long xacts = (long) count(meters, PgmuxMeters.TRANSACTIONS, db);
            long queries = (long) count(meters, PgmuxMeters.QUERIES, db);
            long received = (long) count(meters, PgmuxMeters.RECEIVED_BYTES, db);
            long sent = (long) count(meters, PgmuxMeters.SENT_BYTES, db);
            Totals xactTime = time(meters, PgmuxMeters.TRANSACTION_DURATION, db);
            Totals queryTime = time(meters, PgmuxMeters.QUERY_DURATION, db);
            Totals waitTime = time(meters, PgmuxMeters.POOL_WAIT, db);
            b.row(
                    db,
                    xacts,
                    queries,
                    received,
                    sent,
                    xactTime.micros(),
                    queryTime.micros(),
                    waitTime.micros(),
                    Math.round(xacts / uptimeSeconds),
                    Math.round(queries / uptimeSeconds),
                    Math.round(received / uptimeSeconds),
                    Math.round(sent / uptimeSeconds),
                    xactTime.average(),
                    queryTime.average(),
                    waitTime.average());
        }
        return b.build();
    }

    /** PgBouncer's SHOW CLIENTS / SHOW SERVERS columns, in order; SHOW CLIENTS adds pin_reasons. */
    private static Column[] connectionColumns(boolean clients) {
        List<Column> columns = new ArrayList<>(List.of(
                t("type"),
                t("user"),
                t("database"),
                t("state"),
                t("addr"),
                n("port"),
                t("local_addr"),
                n("local_port"),
                t("connect_time"),
                t("request_time"),
                n("wait"),
                n("wait_us"),
                n("close_needed"),
                t("ptr"),
                t("link"),
                n("remote_pid"),
                t("tls"),
                t("application_name"),
                n("prepared_statements")));
        if (clients) {
            columns.add(t("pin_reasons"));
        }
        return columns.toArray(Column[]::new);
    }

    AdminTable clients(List<ClientSnapshot> snapshots) {
        AdminTable.Builder b = new AdminTable.Builder(connectionColumns(true));
        long now = System.nanoTime();
        for (ClientSnapshot c : snapshots) {
            long waitMicros = c.waitSinceNanos() == 0 ? 0 : Math.max(0, (now - c.waitSinceNanos()) / 1000);
            b.row(
                    "C",
                    c.user(),
                    c.database(),
                    c.state(),
                    host(c.addr()),
                    port(c.addr()),
                    host(c.localAddr()),
                    port(c.localAddr()),
                    timestamp(c.connectMillis()),
                    timestamp(c.requestMillis()),
                    waitMicros / 1_000_000,
                    waitMicros % 1_000_000,
                    0,
                    c.name(),
                    c.link(),
                    0,
                    c.tls(),
                    c.applicationName(),
                    c.preparedStatements(),
                    c.pinReasons());
        }
        return b.build();
    }

    AdminTable servers(List<ServerSnapshot> snapshots) {
        AdminTable.Builder b = new AdminTable.Builder(connectionColumns(false));
        for (ServerSnapshot s : snapshots) {
            b.row(
                    "S",
                    s.user(),
                    s.database(),
                    s.state(),
                    host(s.addr()),
                    port(s.addr()),
                    host(s.localAddr()),
                    port(s.localAddr()),
                    timestamp(s.connectMillis()),
                    timestamp(s.requestMillis()),
                    0,
                    0,
                    s.closeNeeded(),
                    s.name(),
                    s.link(),
                    s.remotePid(),
                    s.tls(),
                    s.applicationName(),
                    s.preparedStatements());
        }
        return b.build();
    }

    private static String host(InetSocketAddress address) {
        return address == null
                ? null
                : address.getAddress() != null ? address.getAddress().getHostAddress() : address.getHostString();
    }

    private static long port(InetSocketAddress address) {
        return address == null ? 0 : address.getPort();
    }

    private static String timestamp(long epochMillis) {
        return TIMESTAMP.format(Instant.ofEpochMilli(epochMillis));
    }

    // ---- helpers --------------------------------------------------------------------------------

    private List<Pool> sortedPools() {
        List<Pool> pools = new ArrayList<>(registry.pools());
        pools.sort((a, b) -> a.key().toString().compareTo(b.key().toString()));
        return pools;
    }

    /** PgBouncer's cl_active: logged-in clients not waiting for a server (attached or idle). */
    private static long clients(Pool pool) {
        return pool.metrics().clients(ClientState.ACTIVE) + pool.metrics().clients(ClientState.IDLE);
    }

    private static String mode(PoolSettings settings) {
        return settings.mode().name().toLowerCase(Locale.ROOT);
    }

    private static double count(MeterRegistry meters, PgmuxMeters meter, String db) {
        return meters.find(meter.meterName()).tag(PgmuxMeters.TagKey.DATABASE, db).counters().stream()
                .mapToDouble(Counter::count)
                .sum();
    }

    /** Total time in microseconds and the number of events it covers. */
    private record Totals(long micros, long count) {
        long average() {
            return count == 0 ? 0 : micros / count;
        }
    }

    private static Totals time(MeterRegistry meters, PgmuxMeters meter, String db) {
        long micros = 0;
        long count = 0;
        for (Timer timer : meters.find(meter.meterName())
                .tag(PgmuxMeters.TagKey.DATABASE, db)
                .timers()) {
            micros += (long) timer.totalTime(TimeUnit.MICROSECONDS);
            count += timer.count();
        }
        return new Totals(micros, count);
    }

    private static Map<String, String> defaults() {
        try {
            return ConfigLoader.settings(ConfigLoader.fromString(""));
        } catch (ConfigException e) {
            throw new IllegalStateException("reference.conf does not load: " + e.getMessage(), e);
        }
    }
}
