package dev.proxyra.testing;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Objects;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;

/**
 * A real PostgreSQL 17 on 127.0.0.1, started by the tests themselves, seeded with the proxy setup
 * proxyra expects: login role {@code app_proxy} (NOINHERIT, no table grants) that is a member of the
 * callers' NOLOGIN roles, and a table under row-level security. Used by the adapter's tests, the
 * integration tests and the demo.
 */
public final class EmbeddedDatabase implements AutoCloseable {
    public static final String PROXY_USER = "app_proxy";
    public static final String PROXY_PASSWORD = "proxy-secret-for-tests";
    /** Callers seeded besides alice and bob: caller001 ... caller200, all granted to app_proxy. */
    public static final int NUMBERED_CALLERS = 200;

    private final EmbeddedPostgres postgres;
    private final Path hbaFile;

    private EmbeddedDatabase(EmbeddedPostgres postgres, Path hbaFile) {
        this.postgres = postgres;
        this.hbaFile = hbaFile;
    }

    /** Starts a new server on a free port and seeds it. */
    public static EmbeddedDatabase start() throws IOException, SQLException {
        return start(0);
    }

    /** Starts a new server on {@code port} (0: any free port) and seeds it. */
    public static EmbeddedDatabase start(int port) throws IOException, SQLException {
        return start(port, null);
    }

    /**
     * As {@link #start()}, but every account except the superuser logs in with a password checked by
     * scram-sha-256, PostgreSQL's default method, as on a real server: for measuring what a login costs.
     * (Without it the server trusts 127.0.0.1, which makes a login far cheaper than anywhere else.)
     */
    public static EmbeddedDatabase startWithPasswordLogins() throws IOException, SQLException {
        Path hba = Files.createTempFile("proxyra-pg_hba", ".conf");
        Files.writeString(hba, "# written by proxyra's EmbeddedDatabase\n"
                + "host all postgres 127.0.0.1/32 trust\n"
                + "host all all 127.0.0.1/32 scram-sha-256\n", StandardCharsets.UTF_8);
        return start(0, hba);
    }

    /** Prepared transactions a started server holds at most: XA tests prepare some, alongside the other tests. */
    public static final int MAX_PREPARED_TRANSACTIONS = 64;

    /**
     * As {@link #start()}, but with max_prepared_transactions = 0 (PostgreSQL's default): PREPARE TRANSACTION fails
     * there, which an XA pool must refuse at start.
     */
    public static EmbeddedDatabase startWithoutPreparedTransactions() throws IOException, SQLException {
        return start(0, null, 0);
    }

    private static EmbeddedDatabase start(int port, Path hbaFile) throws IOException, SQLException {
        return start(port, hbaFile, MAX_PREPARED_TRANSACTIONS);
    }

    private static EmbeddedDatabase start(int port, Path hbaFile, int maxPreparedTransactions)
            throws IOException, SQLException {
        EmbeddedPostgres.Builder builder = EmbeddedPostgres.builder()
                .setServerConfig("listen_addresses", "127.0.0.1")
                .setServerConfig("max_prepared_transactions", Integer.toString(maxPreparedTransactions))
                .setServerConfig("max_connections", "300")
                .setServerConfig("fsync", "off")
                .setServerConfig("synchronous_commit", "off")
                .setServerConfig("full_page_writes", "off");
        if (hbaFile != null) {
            builder.setServerConfig("hba_file", hbaFile.toString());
        }
        if (port != 0) {
            builder.setPort(port);
        }
        PgConnections.ensureDriverRegistered();
        EmbeddedDatabase db = new EmbeddedDatabase(builder.start(), hbaFile);
        db.seed();
        return db;
    }

    private void seed() throws SQLException, IOException {
        try (Connection c = superuser()) {
            seed(c);
        }
    }

    /**
     * Seeds a fresh server through a superuser connection with the set-up {@link #start} gives (seed.sql
     * and the numbered callers); for other support classes that start their own server.
     */
    public static void seed(Connection superuser) throws SQLException, IOException {
        String sql;
        try (InputStream in = Objects.requireNonNull(EmbeddedDatabase.class.getResourceAsStream("seed.sql"))) {
            sql = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        try (Statement s = superuser.createStatement()) {
            s.execute(sql.replace("${PROXY_PASSWORD}", PROXY_PASSWORD));
            s.execute("DO $$ BEGIN FOR i IN 1.." + NUMBERED_CALLERS + " LOOP"
                    + " EXECUTE format('CREATE ROLE %I NOLOGIN IN ROLE callers', 'caller' || lpad(i::text, 3, '0'));"
                    + " EXECUTE format('GRANT %I TO app_proxy', 'caller' || lpad(i::text, 3, '0'));"
                    + " END LOOP; END $$");
        }
    }

    public int port() {
        return postgres.getPort();
    }

    /** The JDBC URL of the seeded database, without credentials. */
    public String url() {
        return "jdbc:postgresql://127.0.0.1:" + port() + "/postgres";
    }

    /** A superuser connection for set-up and for observing the server (pg_stat_activity). */
    public Connection superuser() throws SQLException {
        return PgConnections.open(url(), "postgres", "postgres");
    }

    /** Runs SQL as superuser. */
    public void execute(String sql) throws SQLException {
        try (Connection c = superuser(); Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    public int queryInt(String sql) throws SQLException {
        try (Connection c = superuser(); Statement s = c.createStatement(); var rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getInt(1);
        }
    }

    /**
     * Whether the backend {@code pid} exits within {@code timeout}: a backend leaves pg_stat_activity when it has
     * processed its closed socket, asynchronously to the client, with nothing to wait on but the database itself
     * (which sleeps between polls).
     */
    public boolean backendGone(int pid, java.time.Duration timeout) throws SQLException {
        long deadline = System.nanoTime() + timeout.toNanos();
        String alive = "select count(*) from pg_stat_activity where pid = " + pid;
        while (queryInt(alive) > 0) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            queryInt("select 1 from pg_sleep(0.05)");
        }
        return true;
    }

    /** Backends logged in as the proxy account, as the server sees them. */
    public int proxySessions() throws SQLException {
        try (Connection c = superuser(); Statement s = c.createStatement();
             var rs = s.executeQuery("select count(*) from pg_stat_activity where usename = '" + PROXY_USER + "'")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    /** Terminates every backend of the proxy account; returns how many. */
    public int terminateProxySessions() throws SQLException {
        try (Connection c = superuser(); Statement s = c.createStatement();
             var rs = s.executeQuery("select count(pg_terminate_backend(pid)) from pg_stat_activity where usename = '"
                     + PROXY_USER + "'")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    @Override
    public void close() throws IOException {
        try {
            postgres.close();
        } finally {
            if (hbaFile != null) {
                Files.deleteIfExists(hbaFile);
            }
        }
    }
}
