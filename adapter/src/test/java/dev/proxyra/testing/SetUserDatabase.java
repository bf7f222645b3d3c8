package dev.proxyra.testing;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Debian's PostgreSQL 15 with the set_user extension preloaded, on 127.0.0.1 and a free port, its data under
 * target/, seeded as {@link EmbeddedDatabase} is, with the extension created and executable by the proxy
 * account: the embedded PostgreSQL 17 cannot load the extension. Needs {@code apt-get install
 * postgresql-15-set-user}; {@link SetUserDatabaseExtension} skips the tests, saying why, without it.
 */
public final class SetUserDatabase implements AutoCloseable {
    static final Path BIN = Path.of("/usr/lib/postgresql/15/bin");
    static final Path LIBRARY = Path.of("/usr/lib/postgresql/15/lib/set_user.so");
    static final Path CONTROL = Path.of("/usr/share/postgresql/15/extension/set_user.control");

    private final Path dir;
    private final int port;

    private SetUserDatabase(Path dir, int port) {
        this.dir = dir;
        this.port = port;
    }

    /** Null when everything needed is installed, else what is missing. */
    static String missing() {
        for (Path p : List.of(BIN.resolve("initdb"), BIN.resolve("pg_ctl"))) {
            if (!Files.isExecutable(p)) {
                return "no " + p + " (Debian's PostgreSQL 15)";
            }
        }
        for (Path p : List.of(LIBRARY, CONTROL)) {
            if (!Files.isReadable(p)) {
                return "no " + p + " (the set_user extension)";
            }
        }
        return null;
    }

    public static SetUserDatabase start() throws IOException, SQLException, InterruptedException {
        Path dir = Files.createTempDirectory(Path.of("target").toAbsolutePath(), "pg15-set-user-");
        Path data = dir.resolve("data");
        int port;
        try (ServerSocket free = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = free.getLocalPort();
        }
        boolean root = "root".equals(System.getProperty("user.name"));
        if (root) {
            run(List.of("chown", "postgres", dir.toString()));
        }
        run(asServerUser(root, List.of(BIN.resolve("initdb").toString(), "-D", data.toString(), "-U", "postgres",
                "-A", "trust", "--no-sync", "-E", "UTF8", "--locale=C")));
        Files.writeString(data.resolve("postgresql.conf"), "\n# proxyra's SetUserDatabase\n"
                + "listen_addresses = '127.0.0.1'\nport = " + port + "\nunix_socket_directories = '" + dir + "'\n"
                + "shared_preload_libraries = 'set_user'\nfsync = off\nsynchronous_commit = off\n"
                + "full_page_writes = off\nmax_connections = 100\n", StandardCharsets.UTF_8,
                java.nio.file.StandardOpenOption.APPEND);
        SetUserDatabase db = new SetUserDatabase(dir, port);
        run(asServerUser(root, List.of(BIN.resolve("pg_ctl").toString(), "-D", data.toString(), "-l",
                dir.resolve("server.log").toString(), "-w", "-t", "60", "start")));
        try {
            PgConnections.ensureDriverRegistered();
            try (Connection c = db.superuser(); Statement s = c.createStatement()) {
                EmbeddedDatabase.seed(c);
                s.execute("CREATE EXTENSION set_user;"
                        + " GRANT EXECUTE ON FUNCTION set_user(text, text), reset_user(text) TO app_proxy");
            }
        } catch (SQLException | IOException | RuntimeException e) {
            db.close();
            throw e;
        }
        return db;
    }

    private static List<String> asServerUser(boolean root, List<String> command) {
        if (!root) {
            return command; // initdb refuses root, and only root can become postgres
        }
        List<String> as = new ArrayList<>(List.of("runuser", "-u", "postgres", "--"));
        as.addAll(command);
        return as;
    }

    private static void run(List<String> command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException(String.join(" ", command) + " failed: " + out);
        }
    }

    public String url() {
        return "jdbc:postgresql://127.0.0.1:" + port + "/postgres";
    }

    public Connection superuser() throws SQLException {
        return PgConnections.open(url(), "postgres", "postgres");
    }

    public Connection proxyAccount() throws SQLException {
        return PgConnections.open(url(), EmbeddedDatabase.PROXY_USER, EmbeddedDatabase.PROXY_PASSWORD);
    }

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

    /** The server's log, e.g. to see what set_user logged and that nothing crashed. */
    public String serverLog() throws IOException {
        return Files.readString(dir.resolve("server.log"), StandardCharsets.UTF_8);
    }

    @Override
    public void close() throws IOException {
        try {
            boolean root = "root".equals(System.getProperty("user.name"));
            run(asServerUser(root, List.of(BIN.resolve("pg_ctl").toString(), "-D", dir.resolve("data").toString(),
                    "-m", "fast", "-w", "stop")));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            try (Stream<Path> files = Files.walk(dir)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }
}
