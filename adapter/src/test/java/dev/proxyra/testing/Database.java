package dev.proxyra.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;

/**
 * A real PostgreSQL on 127.0.0.1 that the tests start themselves, seeded with the proxy setup proxyra expects:
 * login role {@code app_proxy} (NOINHERIT, no table grants) that is a member of the callers' NOLOGIN roles,
 * the numbered callers, and a table under row-level security. Built by {@link #embedded()} (zonky's PostgreSQL 17)
 * or {@link #withSetUser()} (Debian's PostgreSQL 15 with the set_user extension, which the embedded server cannot
 * load), then shaped by the builder's options: password logins, statement statistics, restarts on the same port and
 * data directory. Its data lives below target/ (or the system's temporary directory outside a build) and is deleted
 * by {@link #close()}.
 */
public final class Database implements AutoCloseable {
    public static final String PROXY_USER = "app_proxy";
    public static final String PROXY_PASSWORD = "proxy-secret-for-tests";
    /** Callers seeded besides alice and bob: caller001 ... caller200, all granted to app_proxy. */
    public static final int NUMBERED_CALLERS = 200;

    static final Path SET_USER_BIN = Path.of("/usr/lib/postgresql/15/bin");
    static final Path SET_USER_LIBRARY = Path.of("/usr/lib/postgresql/15/lib/set_user.so");
    static final Path SET_USER_CONTROL = Path.of("/usr/share/postgresql/15/extension/set_user.control");

    private final Server server;
    private final Path runDirectory;
    private final int port;
    private final boolean restartable;

    private Database(Server server, Path runDirectory, int port, boolean restartable) {
        this.server = server;
        this.runDirectory = runDirectory;
        this.port = port;
        this.restartable = restartable;
    }

    /** zonky's embedded PostgreSQL 17. */
    public static Builder embedded() {
        return new Builder(Kind.EMBEDDED);
    }

    /**
     * Debian's PostgreSQL 15 with set_user preloaded, the extension created and executable by the proxy account.
     * Needs {@code apt-get install postgresql-15-set-user}; see {@link #setUserMissing()}.
     */
    public static Builder withSetUser() {
        return new Builder(Kind.SET_USER);
    }

    /** Null when everything {@link #withSetUser()} needs is installed, else what is missing. */
    public static String setUserMissing() {
        for (Path p : List.of(SET_USER_BIN.resolve("initdb"), SET_USER_BIN.resolve("pg_ctl"))) {
            if (!Files.isExecutable(p)) {
                return "no " + p + " (Debian's PostgreSQL 15)";
            }
        }
        for (Path p : List.of(SET_USER_LIBRARY, SET_USER_CONTROL)) {
            if (!Files.isReadable(p)) {
                return "no " + p + " (the set_user extension)";
            }
        }
        return null;
    }

    private enum Kind {
        EMBEDDED, SET_USER
    }

    /** What a test asks of its server; {@link #start()} builds, starts and seeds it. */
    public static final class Builder {
        private final Kind kind;
        private boolean passwordLogins;
        private boolean statementStats;
        private boolean restartable;
        private boolean preparedTransactions = true;
        private int port;

        private Builder(Kind kind) {
            this.kind = kind;
        }

        /**
         * Every account except the superuser logs in with a password checked by scram-sha-256, PostgreSQL's default
         * method, as on a real server: a wrong password is refused, and a login costs what it costs elsewhere.
         * (Without it the server trusts 127.0.0.1, which makes a login far cheaper than anywhere else.)
         */
        public Builder passwordLogins() {
            passwordLogins = true;
            return this;
        }

        /**
         * Records every statement with the role it ran as ({@code pg_stat_statements}, whose {@code userid} is the
         * current_user at execution time, i.e. after SET ROLE); see {@link #statementsRunAs} and {@link #callsByRole}.
         */
        public Builder statementStats() {
            statementStats = true;
            return this;
        }

        /** {@link #stop()} and {@link #start()} may be called while clients run; the port and data stay. */
        public Builder restartable() {
            restartable = true;
            return this;
        }

        /** {@code max_prepared_transactions = 0} instead of 64: the server refuses PREPARE TRANSACTION. */
        public Builder withoutPreparedTransactions() {
            preparedTransactions = false;
            return this;
        }

        /** The port to listen on; 0 (the default) for a free one. */
        public Builder port(int port) {
            this.port = port;
            return this;
        }

        /** Initialises, starts and seeds the server. */
        public Database start() throws IOException, SQLException {
            Path run = Files.createTempDirectory(runsBelow(), kind == Kind.SET_USER ? "pg15-set-user-" : "pg-");
            Database db = null;
            try {
                int chosen = port != 0 ? port : freePort();
                Map<String, String> settings = settings(run, chosen);
                Server server = kind == Kind.SET_USER ? new DebianServer(run, settings)
                        : new EmbeddedServer(run.resolve("data"), chosen, settings);
                db = new Database(server, run, chosen, restartable);
                ensureDriverRegistered();
                server.start();
                db.seed(kind, statementStats);
                return db;
            } catch (IOException | SQLException | RuntimeException e) {
                if (db != null) {
                    db.close();
                } else {
                    deleteTree(run);
                }
                throw e;
            }
        }

        private Map<String, String> settings(Path run, int chosen) throws IOException {
            Map<String, String> settings = new LinkedHashMap<>();
            settings.put("listen_addresses", "127.0.0.1");
            settings.put("max_connections", kind == Kind.SET_USER ? "100" : "300");
            settings.put("max_prepared_transactions", preparedTransactions ? "64" : "0");
            settings.put("fsync", "off");
            settings.put("synchronous_commit", "off");
            settings.put("full_page_writes", "off");
            if (kind == Kind.SET_USER) {
                settings.put("port", Integer.toString(chosen));
                settings.put("unix_socket_directories", run.toString());
            }
            if (passwordLogins) {
                Path hba = run.resolve("pg_hba.conf");
                Files.writeString(hba, "# written by proxyra's test Database\n"
                        + "host all postgres 127.0.0.1/32 trust\n"
                        + "host all all 127.0.0.1/32 scram-sha-256\n", StandardCharsets.UTF_8);
                settings.put("hba_file", hba.toString());
                settings.put("password_encryption", "scram-sha-256");
            }
            List<String> preload = new ArrayList<>();
            if (kind == Kind.SET_USER) {
                preload.add("set_user");
            }
            if (statementStats) {
                preload.add("pg_stat_statements");
                settings.put("pg_stat_statements.track", "all");
                settings.put("pg_stat_statements.track_utility", "on");
                settings.put("pg_stat_statements.max", "10000");
            }
            if (!preload.isEmpty()) {
                settings.put("shared_preload_libraries", String.join(",", preload));
            }
            return settings;
        }
    }

    private void seed(Kind kind, boolean statementStats) throws SQLException, IOException {
        String sql;
        try (InputStream in = Objects.requireNonNull(Database.class.getResourceAsStream("seed.sql"))) {
            sql = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        try (Connection c = superuser(); Statement s = c.createStatement()) {
            s.execute(sql.replace("${PROXY_PASSWORD}", PROXY_PASSWORD));
            s.execute("DO $$ BEGIN FOR i IN 1.." + NUMBERED_CALLERS + " LOOP"
                    + " EXECUTE format('CREATE ROLE %I NOLOGIN IN ROLE callers', 'caller' || lpad(i::text, 3, '0'));"
                    + " EXECUTE format('GRANT %I TO app_proxy', 'caller' || lpad(i::text, 3, '0'));"
                    + " END LOOP; END $$");
            if (statementStats) {
                s.execute("CREATE EXTENSION pg_stat_statements");
            }
            if (kind == Kind.SET_USER) {
                s.execute("CREATE EXTENSION set_user;"
                        + " GRANT EXECUTE ON FUNCTION set_user(text, text), reset_user(text) TO app_proxy");
            }
        }
    }

    public int port() {
        return port;
    }

    /** The JDBC URL of the seeded database, without credentials. */
    public String url() {
        return "jdbc:postgresql://127.0.0.1:" + port + "/postgres";
    }

    /** A superuser connection for set-up and for observing the server (pg_stat_activity). */
    public Connection superuser() throws SQLException {
        return connectAs("postgres", "postgres");
    }

    /** A connection as the proxy account itself, as the pool's sessions log in. */
    public Connection proxyAccount() throws SQLException {
        return connectAs(PROXY_USER, PROXY_PASSWORD);
    }

    /**
     * A connection as {@code user}, not through DriverManager: a stopping resource adapter deregisters the
     * PostgreSQL driver its class loader registered (so an undeployed rar leaves nothing behind), and in these
     * tests the adapter shares its class loader with the tests.
     */
    public Connection connectAs(String user, String password) throws SQLException {
        Properties props = new Properties();
        props.setProperty("user", user);
        props.setProperty("password", password);
        Connection c = new org.postgresql.Driver().connect(url(), props);
        if (c == null) {
            throw new SQLException("not a PostgreSQL URL: " + url());
        }
        return c;
    }

    /** Runs SQL as superuser. */
    public void execute(String sql) throws SQLException {
        try (Connection c = superuser(); Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    public int queryInt(String sql) throws SQLException {
        return Math.toIntExact(queryLong(sql));
    }

    public long queryLong(String sql) throws SQLException {
        try (Connection c = superuser(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /**
     * Whether the backend {@code pid} exits within {@code timeout}: a backend leaves pg_stat_activity when it has
     * processed its closed socket, asynchronously to the client, with nothing to wait on but the database itself
     * (which sleeps between polls).
     */
    public boolean backendGone(int pid, Duration timeout) throws SQLException {
        return noneWithin("select count(*) from pg_stat_activity where pid = " + pid, timeout);
    }

    /**
     * Whether every backend of the proxy account exits within {@code timeout}: after a pool closes its sessions,
     * their backends leave pg_stat_activity asynchronously, as {@link #backendGone} says.
     */
    public boolean proxySessionsGone(Duration timeout) throws SQLException {
        return noneWithin("select count(*) from pg_stat_activity where usename = '" + PROXY_USER + "'", timeout);
    }

    private boolean noneWithin(String count, Duration timeout) throws SQLException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (queryInt(count) > 0) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            queryInt("select 1 from pg_sleep(0.05)");
        }
        return true;
    }

    /** Backends logged in as the proxy account, as the server sees them. */
    public int proxySessions() throws SQLException {
        return queryInt("select count(*) from pg_stat_activity where usename = '" + PROXY_USER + "'");
    }

    /** Terminates every backend of the proxy account; returns how many. */
    public int terminateProxySessions() throws SQLException {
        return queryInt("select count(pg_terminate_backend(pid)) from pg_stat_activity where usename = '"
                + PROXY_USER + "'");
    }

    /** Forgets the statement statistics, so that what follows can be attributed; needs {@link Builder#statementStats()}. */
    public void resetStatementStats() throws SQLException {
        execute("select pg_stat_statements_reset()");
    }

    /**
     * Statements the database recorded as executed with {@code current_user = role} since the last
     * reset: normalised query text to number of calls. Needs {@link Builder#statementStats()}.
     */
    public Map<String, Long> statementsRunAs(String role) throws SQLException {
        return sums("select s.query, sum(s.calls) from pg_stat_statements s"
                + " join pg_roles r on r.oid = s.userid where r.rolname = ? group by s.query order by 1", role);
    }

    /**
     * Calls of statements containing {@code marker}, per role they ran as (current_user), since the last reset.
     * Needs {@link Builder#statementStats()}.
     */
    public Map<String, Long> callsByRole(String marker) throws SQLException {
        return sums("select r.rolname, sum(s.calls) from pg_stat_statements s"
                + " join pg_roles r on r.oid = s.userid where strpos(s.query, ?) > 0 group by r.rolname", marker);
    }

    private Map<String, Long> sums(String sql, String parameter) throws SQLException {
        Map<String, Long> sums = new LinkedHashMap<>();
        try (Connection c = superuser(); var ps = c.prepareStatement(sql)) {
            ps.setString(1, parameter);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    sums.put(rs.getString(1), rs.getLong(2));
                }
            }
        }
        return sums;
    }

    /** The server's log, e.g. to see what set_user logged and that nothing crashed; {@link #withSetUser()} only. */
    public String serverLog() throws IOException {
        return Files.readString(runDirectory.resolve("server.log"), StandardCharsets.UTF_8);
    }

    /** Stops the server (fast shutdown: open sessions are terminated); the data directory stays for {@link #start()}. */
    public synchronized void stop() throws IOException {
        requireRestartable();
        server.stop();
    }

    /** Starts the server again on the same port and data directory; returns when it accepts connections. */
    public synchronized void start() throws IOException {
        requireRestartable();
        if (server.isRunning()) {
            throw new IllegalStateException("already running");
        }
        ensureDriverRegistered();
        server.start();
    }

    public synchronized boolean isRunning() {
        return server.isRunning();
    }

    private void requireRestartable() {
        if (!restartable) {
            throw new IllegalStateException("this database was not built restartable()");
        }
    }

    /** Stops the server and deletes its data. */
    @Override
    public synchronized void close() throws IOException {
        try {
            server.stop();
        } finally {
            deleteTree(runDirectory);
        }
    }

    /** zonky's embedded PostgreSQL checks its start-up through DriverManager: the driver must be registered. */
    private static void ensureDriverRegistered() {
        try {
            if (!org.postgresql.Driver.isRegistered()) {
                org.postgresql.Driver.register();
            }
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The build's target/ in a module's tests; the system's temporary directory for the benchmarks' runners. */
    private static Path runsBelow() {
        Path target = Path.of("target").toAbsolutePath();
        return Files.isDirectory(target) ? target : Path.of(System.getProperty("java.io.tmpdir"));
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static void deleteTree(Path root) throws IOException {
        if (Files.exists(root)) {
            try (Stream<Path> all = Files.walk(root)) {
                for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    /** A PostgreSQL server process on one port and data directory. */
    private interface Server {
        void start() throws IOException;

        /** Does nothing when it is not running. */
        void stop() throws IOException;

        boolean isRunning();
    }

    private static final class EmbeddedServer implements Server {
        private final Path dataDirectory;
        private final int port;
        private final Map<String, String> settings;
        private EmbeddedPostgres postgres;

        EmbeddedServer(Path dataDirectory, int port, Map<String, String> settings) {
            this.dataDirectory = dataDirectory;
            this.port = port;
            this.settings = settings;
        }

        @Override
        public void start() throws IOException {
            EmbeddedPostgres.Builder builder = EmbeddedPostgres.builder()
                    .setDataDirectory(dataDirectory)
                    .setCleanDataDirectory(false) // a restart keeps the data; close() deletes it
                    .setPort(port);
            settings.forEach(builder::setServerConfig);
            postgres = builder.start();
        }

        @Override
        public void stop() throws IOException {
            EmbeddedPostgres p = postgres;
            postgres = null;
            if (p != null) {
                p.close();
            }
        }

        @Override
        public boolean isRunning() {
            return postgres != null;
        }
    }

    /** Debian's PostgreSQL 15 through initdb and pg_ctl, as the user postgres when the tests run as root. */
    private static final class DebianServer implements Server {
        private final Path run;
        private final Path data;
        private final Map<String, String> settings;
        private boolean initialised;
        private boolean running;

        DebianServer(Path run, Map<String, String> settings) {
            this.run = run;
            this.data = run.resolve("data");
            this.settings = settings;
        }

        @Override
        public void start() throws IOException {
            if (!initialised) {
                if (asRoot()) {
                    Commands.run(List.of("chown", "postgres", run.toString()));
                }
                Commands.run(asServerUser(List.of(SET_USER_BIN.resolve("initdb").toString(), "-D", data.toString(),
                        "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8", "--locale=C")));
                StringBuilder conf = new StringBuilder("\n# proxyra's test Database\n");
                settings.forEach((k, v) -> conf.append(k).append(" = '").append(v).append("'\n"));
                Files.writeString(data.resolve("postgresql.conf"), conf, StandardCharsets.UTF_8,
                        StandardOpenOption.APPEND);
                initialised = true;
            }
            Commands.run(asServerUser(List.of(SET_USER_BIN.resolve("pg_ctl").toString(), "-D", data.toString(), "-l",
                    run.resolve("server.log").toString(), "-w", "-t", "60", "start")));
            running = true;
        }

        @Override
        public void stop() throws IOException {
            if (running) {
                running = false;
                Commands.run(asServerUser(List.of(SET_USER_BIN.resolve("pg_ctl").toString(), "-D", data.toString(),
                        "-m", "fast", "-w", "stop")));
            }
        }

        @Override
        public boolean isRunning() {
            return running;
        }

        private static boolean asRoot() {
            return "root".equals(System.getProperty("user.name"));
        }

        private static List<String> asServerUser(List<String> command) {
            if (!asRoot()) {
                return command; // initdb refuses root, and only root can become postgres
            }
            List<String> as = new ArrayList<>(List.of("runuser", "-u", "postgres", "--"));
            as.addAll(command);
            return as;
        }
    }

    private static final class Commands {
        private Commands() {
        }

        static void run(List<String> command) throws IOException {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            boolean exited;
            try {
                exited = p.waitFor(120, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException(String.join(" ", command) + " interrupted");
            }
            if (!exited || p.exitValue() != 0) {
                throw new IOException(String.join(" ", command) + " failed: " + out);
            }
        }
    }
}
