package dev.proxyra.testing;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Stream;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;

/**
 * A dedicated PostgreSQL 17 for destructive and observing scenarios, never shared with the other
 * suites: it can be stopped and started again on the same port and data directory while clients run,
 * it asks the proxy account for its password (so a wrong password is refused), and it records every
 * statement with the role it ran as ({@code pg_stat_statements}, whose {@code userid} is the
 * current_user at execution time, i.e. after SET ROLE). Seeded like {@link EmbeddedDatabase}.
 */
public final class RestartableDatabase implements AutoCloseable {
    public static final String PROXY_USER = EmbeddedDatabase.PROXY_USER;
    public static final String PROXY_PASSWORD = EmbeddedDatabase.PROXY_PASSWORD;

    private final Path dataDirectory;
    private final int port;
    private EmbeddedPostgres postgres;

    private RestartableDatabase(Path dataDirectory, int port) {
        this.dataDirectory = dataDirectory;
        this.port = port;
    }

    /** Initialises, starts and seeds a new server on a free loopback port; its data lives below target/. */
    public static RestartableDatabase create() throws IOException, SQLException {
        Path parent = Path.of("target").toAbsolutePath();
        Files.createDirectories(parent);
        Path dir = Files.createTempDirectory(parent, "reliability-pg-");
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        RestartableDatabase db = new RestartableDatabase(dir.resolve("data"), port);
        try {
            db.start();
            try (Connection c = db.superuser(); Statement s = c.createStatement()) {
                EmbeddedDatabase.seed(c);
                s.execute("CREATE EXTENSION pg_stat_statements");
            }
        } catch (IOException | SQLException | RuntimeException e) {
            db.close();
            throw e;
        }
        return db;
    }

    /** Starts the server (again) on the same port and data directory; returns when it accepts connections. */
    public synchronized void start() throws IOException {
        if (postgres != null) {
            throw new IllegalStateException("already running");
        }
        PgConnections.ensureDriverRegistered();
        postgres = EmbeddedPostgres.builder()
                .setDataDirectory(dataDirectory)
                .setCleanDataDirectory(false) // stop() must keep the data for the next start()
                .setPort(port)
                .setDataDirectoryCustomizer(RestartableDatabase::requirePasswords)
                .setServerConfig("listen_addresses", "127.0.0.1")
                .setServerConfig("max_connections", "300")
                .setServerConfig("fsync", "off")
                .setServerConfig("synchronous_commit", "off")
                .setServerConfig("full_page_writes", "off")
                .setServerConfig("password_encryption", "scram-sha-256")
                .setServerConfig("shared_preload_libraries", "pg_stat_statements")
                .setServerConfig("pg_stat_statements.track", "all")
                .setServerConfig("pg_stat_statements.track_utility", "on")
                .setServerConfig("pg_stat_statements.max", "10000")
                .start();
    }

    /** Stops the server (fast shutdown: open sessions are terminated); the data directory stays. */
    public synchronized void stop() throws IOException {
        EmbeddedPostgres p = postgres;
        postgres = null;
        if (p != null) {
            p.close();
        }
    }

    public synchronized boolean isRunning() {
        return postgres != null;
    }

    /** The superuser logs in without a password; everybody else (app_proxy) needs one. */
    private static void requirePasswords(File dataDir) {
        try {
            Files.writeString(dataDir.toPath().resolve("pg_hba.conf"),
                    "# written by proxyra's reliability tests\n"
                            + "host all postgres 127.0.0.1/32 trust\n"
                            + "host all all 127.0.0.1/32 scram-sha-256\n");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public int port() {
        return port;
    }

    public String url() {
        return "jdbc:postgresql://127.0.0.1:" + port + "/postgres";
    }

    public Connection superuser() throws SQLException {
        return PgConnections.open(url(), "postgres", "");
    }

    public void execute(String sql) throws SQLException {
        try (Connection c = superuser(); Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    public long queryLong(String sql) throws SQLException {
        try (Connection c = superuser(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** Backends logged in as the proxy account. */
    public int proxySessions() throws SQLException {
        return (int) queryLong("select count(*) from pg_stat_activity where usename = '" + PROXY_USER + "'");
    }

    /** Forgets the statement statistics, so that what follows can be attributed. */
    public void resetStatementStats() throws SQLException {
        execute("select pg_stat_statements_reset()");
    }

    /**
     * Statements the database recorded as executed with {@code current_user = role} since the last
     * reset: normalised query text to number of calls.
     */
    public Map<String, Long> statementsRunAs(String role) throws SQLException {
        Map<String, Long> calls = new LinkedHashMap<>();
        try (Connection c = superuser();
             var ps = c.prepareStatement("select s.query, sum(s.calls) from pg_stat_statements s"
                     + " join pg_roles r on r.oid = s.userid where r.rolname = ? group by s.query order by 1")) {
            ps.setString(1, role);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    calls.put(rs.getString(1), rs.getLong(2));
                }
            }
        }
        return calls;
    }

    /** Calls of statements containing {@code marker}, per role they ran as (current_user), since the last reset. */
    public Map<String, Long> callsByRole(String marker) throws SQLException {
        Map<String, Long> calls = new LinkedHashMap<>();
        try (Connection c = superuser();
             var ps = c.prepareStatement("select r.rolname, sum(s.calls) from pg_stat_statements s"
                     + " join pg_roles r on r.oid = s.userid where strpos(s.query, ?) > 0 group by r.rolname")) {
            ps.setString(1, marker);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    calls.put(rs.getString(1), rs.getLong(2));
                }
            }
        }
        return calls;
    }

    /** Stops the server and deletes its data directory. */
    @Override
    public void close() throws IOException {
        try {
            stop();
        } finally {
            Path root = dataDirectory.getParent();
            if (Files.exists(root)) {
                try (Stream<Path> all = Files.walk(root)) {
                    for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
                        Files.deleteIfExists(p);
                    }
                }
            }
        }
    }
}
