package dev.proxyra.it.support;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Objects;

/**
 * The embedded PostgreSQL 17 that the integration suites and the demo run against, on 127.0.0.1 only.
 * It is seeded with the repository's {@code sql/postgresql-setup.sql} (proxy role app_proxy, caller
 * roles alice and bob, the table {@code orders} under row-level security) and nothing else; the demo
 * adds a few rows. Only the superuser may log in without a password: app_proxy must present the
 * password that proxyra receives through MicroProfile Config.
 */
public final class ItDatabase implements AutoCloseable {
    public static final String PROXY_USER = "app_proxy";

    /**
     * The two databases of the XA scenarios, each with a table {@code entries} the callers may write (owner defaults to
     * current_user), and every statement logged ({@code log_statement = all}) to {@link #statementLog()}.
     */
    public static final List<String> XA_DATABASES = List.of("stock", "ledger");

    /**
     * A plain login role for the servers' own XA data sources (not a caller, not behind proxyra), which may write the
     * XA databases' entries; its password is the test's own.
     */
    public static final String NATIVE_USER = "ledger_app";
    public static final String NATIVE_PASSWORD = "Ledger-2026";

    private final EmbeddedPostgres postgres;
    private final Path statementLog;

    private ItDatabase(EmbeddedPostgres postgres, Path statementLog) {
        this.postgres = postgres;
        this.statementLog = statementLog;
    }

    /**
     * Starts and seeds a new server.
     *
     * @param workDir       data directory and unpacked binaries go below it
     * @param port          TCP port on 127.0.0.1; 0 for any free port
     * @param proxyPassword the password app_proxy gets
     * @param sqlDir        the repository's {@code sql/} directory
     * @param demoRows      whether to add the demo's rows for alice and bob
     * @param shutdownHook  whether the server stops by itself when this JVM exits
     */
    public static ItDatabase start(Path workDir, int port, String proxyPassword, Path sqlDir, boolean demoRows,
                                   boolean shutdownHook) throws IOException, SQLException {
        Objects.requireNonNull(proxyPassword, "the proxy password");
        Files.createDirectories(workDir);
        EmbeddedPostgres.Builder builder = EmbeddedPostgres.builder()
                .setDataDirectory(workDir.resolve("pgdata"))
                .setCleanDataDirectory(true)
                .setOverrideWorkingDirectory(workDir.resolve("pg-binaries").toFile())
                .setRegisterShutdownHook(shutdownHook)
                .setServerConfig("listen_addresses", "127.0.0.1")
                .setServerConfig("max_connections", "100")
                .setServerConfig("password_encryption", "scram-sha-256")
                .setServerConfig("fsync", "off")
                .setServerConfig("synchronous_commit", "off")
                .setServerConfig("full_page_writes", "off")
                // XA: PREPARE TRANSACTION needs slots; the XA databases' statements go to a log file the suites read
                .setServerConfig("max_prepared_transactions", "32")
                .setServerConfig("logging_collector", "on")
                .setServerConfig("log_directory", workDir.resolve("pglog").toAbsolutePath().toString())
                .setServerConfig("log_filename", "postgresql.log")
                .setServerConfig("log_line_prefix", "%m:%p:db=%d:") // no spaces or shell characters: pg_ctl passes it through a shell
                .setDataDirectoryCustomizer(ItDatabase::requirePasswords);
        if (port > 0) {
            builder.setPort(port);
        }
        ItDatabase db = new ItDatabase(builder.start(), workDir.resolve("pglog").resolve("postgresql.log").toAbsolutePath());
        try {
            db.execute(Files.readString(sqlDir.resolve("postgresql-setup.sql")));
            db.execute("ALTER ROLE " + PROXY_USER + " PASSWORD '" + proxyPassword.replace("'", "''") + "'");
            db.execute("CREATE ROLE " + NATIVE_USER + " LOGIN PASSWORD '" + NATIVE_PASSWORD + "'");
            for (String xaDatabase : XA_DATABASES) {
                db.createXaDatabase(xaDatabase);
            }
            if (demoRows) {
                db.execute(resource("demo-rows.sql"));
            }
        } catch (SQLException | IOException | RuntimeException e) {
            db.close();
            throw e;
        }
        return db;
    }

    /** The superuser (set-up and observation only) logs in without a password, everyone else with one. */
    private static void requirePasswords(java.io.File dataDir) {
        try {
            Files.writeString(dataDir.toPath().resolve("pg_hba.conf"),
                    "# written by proxyra's integration tests\n"
                            + "host all postgres 127.0.0.1/32 trust\n"
                            + "host all all 127.0.0.1/32 scram-sha-256\n");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String resource(String name) throws IOException {
        try (InputStream in = Objects.requireNonNull(ItDatabase.class.getResourceAsStream(name), name)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    private void createXaDatabase(String name) throws SQLException {
        execute("CREATE DATABASE " + name);
        execute("ALTER DATABASE " + name + " SET log_statement = 'all'");
        try (Connection c = DriverManager.getConnection(url(name), "postgres", ""); Statement s = c.createStatement()) {
            s.execute("""
                    REVOKE CREATE ON SCHEMA public FROM PUBLIC;
                    CREATE TABLE entries (
                        id    uuid PRIMARY KEY DEFAULT gen_random_uuid(),
                        owner text NOT NULL DEFAULT current_user,
                        item  text NOT NULL
                    );
                    GRANT SELECT, INSERT ON entries TO alice, bob;
                    """ + "GRANT SELECT, INSERT ON entries TO " + NATIVE_USER);
        }
    }

    /** The server's log file: every statement of the XA databases, each line carrying {@code db=<name>:}. */
    public Path statementLog() {
        return statementLog;
    }

    /** The owner of the entry with this item in the XA database {@code database}, past any policy; null when none. */
    public String ownerOfEntry(String database, String item) throws SQLException {
        try (Connection c = DriverManager.getConnection(url(database), "postgres", "");
             var ps = c.prepareStatement("select owner from entries where item = ?")) {
            ps.setString(1, item);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        }
    }

    /** Transactions prepared and not yet committed or rolled back, in every database: gid and owner. */
    public List<String> preparedTransactions() throws SQLException {
        List<String> prepared = new java.util.ArrayList<>();
        try (Connection c = superuser(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("select database, gid, owner from pg_prepared_xacts order by prepared")) {
            while (rs.next()) {
                prepared.add(rs.getString(1) + " " + rs.getString(2) + " owner=" + rs.getString(3));
            }
        }
        return prepared;
    }

    /**
     * Rolls back, as the superuser, every transaction still prepared in the XA databases and returns how many: after
     * a server's scenarios, so that one that failed mid-way does not leave the next server's scenarios its branches.
     */
    public int rollBackEveryPreparedTransaction() throws SQLException {
        int n = 0;
        for (String database : XA_DATABASES) {
            try (Connection c = DriverManager.getConnection(url(database), "postgres", "");
                 Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("select gid from pg_prepared_xacts where database = current_database()")) {
                List<String> gids = new java.util.ArrayList<>();
                while (rs.next()) {
                    gids.add(rs.getString(1));
                }
                for (String gid : gids) {
                    try (Statement r = c.createStatement()) {
                        r.execute("ROLLBACK PREPARED '" + gid.replace("'", "''") + "'");
                        n++;
                    }
                }
            }
        }
        return n;
    }

    /** The JDBC URL of database {@code name} on this server. */
    public String url(String name) {
        return "jdbc:postgresql://127.0.0.1:" + port() + "/" + name;
    }

    public int port() {
        return postgres.getPort();
    }

    /** The JDBC URL proxyra is configured with (no credentials in it). */
    public String url() {
        return "jdbc:postgresql://127.0.0.1:" + port() + "/postgres";
    }

    /** A superuser connection, to set up and to observe the server (pg_stat_activity, rows behind RLS). */
    public Connection superuser() throws SQLException {
        return DriverManager.getConnection(url(), "postgres", "");
    }

    public void execute(String sql) throws SQLException {
        try (Connection c = superuser(); Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    /** Sessions the proxy account has open, as the server sees them. */
    public int proxySessions() throws SQLException {
        return queryInt("select count(*) from pg_stat_activity where usename = '" + PROXY_USER + "'");
    }

    public int queryInt(String sql) throws SQLException {
        try (Connection c = superuser(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getInt(1);
        }
    }

    /** The owner of the row with this item, read past row-level security; null when there is no such row. */
    public String ownerOfItem(String item) throws SQLException {
        try (Connection c = superuser();
             var ps = c.prepareStatement("select owner from orders where item = ?")) {
            ps.setString(1, item);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        }
    }

    @Override
    public void close() throws IOException {
        postgres.close();
    }
}
