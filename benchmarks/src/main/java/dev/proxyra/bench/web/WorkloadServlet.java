package dev.proxyra.bench.web;

import java.io.IOException;
import java.security.Principal;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;

import javax.sql.DataSource;

import jakarta.annotation.Resource;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.postgresql.PGConnection;

/**
 * One workload of the load test, served through each resource it compares: {@code .../proxyra} takes a connection
 * from proxyra (runs as the caller; {@code .../proxyra-scan} the same with IdentityCheck=SCAN), {@code .../shared}
 * from Payara's own JDBC pool logged in as one shared account (the database does not know the caller), and
 * {@code .../login} opens a new physical connection per request and sets the caller's role, and {@code .../set-role}
 * takes a connection from Payara's own JDBC pool logged in as the proxy account and sets the caller's role by hand
 * with nothing reset (what applications on a plain pool are told to write: the floor of a per-request identity). Answers with what the
 * workload returns. Deployed only by the load test ({@code dev.proxyra.bench.load.LoadMain}), which requires a
 * signed-in caller on every request.
 */
abstract class WorkloadServlet extends HttpServlet {
    private static final long serialVersionUID = 1L;

    @Resource(lookup = "jdbc/proxyra")
    private transient DataSource proxyra;

    @Resource(lookup = "jdbc/proxyra-scan")
    private transient DataSource proxyraScan;

    @Resource(lookup = "jdbc/shared")
    private transient DataSource shared;

    @Resource(lookup = "jdbc/set-role")
    private transient DataSource proxyAccount;

    /**
     * Runs the workload on {@code c} and closes it. {@code sharedAccountCaller}: the caller, when the connection is
     * the shared account's and the application must filter and stamp rows itself; null when the database knows
     * the caller.
     */
    protected abstract String serve(Connection c, String sharedAccountCaller) throws SQLException;

    @Override
    protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        Principal caller = req.getUserPrincipal();
        if (caller == null) {
            resp.sendError(401);
            return;
        }
        String which = req.getPathInfo() == null ? "" : req.getPathInfo();
        try {
            String answer = switch (which) {
                case "/proxyra" -> serve(proxyra.getConnection(), null);
                case "/proxyra-scan" -> serve(proxyraScan.getConnection(), null);
                case "/shared" -> serve(shared.getConnection(), caller.getName());
                case "/login" -> serve(login(caller.getName()), null);
                case "/set-role" -> serve(setRole(proxyAccount.getConnection(), caller.getName()), null);
                default -> null;
            };
            if (answer == null) {
                resp.sendError(404);
                return;
            }
            resp.setContentType("text/plain");
            resp.getWriter().write(answer);
        } catch (SQLException e) {
            resp.sendError(500, e.getSQLState() + " " + e.getMessage());
        }
    }

    /**
     * pgjdbc comes from Payara's --addlibs, which DriverManager does not scan once it initialised itself under
     * another class loader: the driver is asked directly, as a DataSource would.
     */
    private static final org.postgresql.Driver POSTGRESQL = new org.postgresql.Driver();

    /** {@code c} switched to the caller's role by one SET ROLE, as a hand-written switch does; nothing else. */
    static Connection setRole(Connection c, String caller) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute("SET ROLE \"" + caller.replace("\"", "\"\"") + "\"");
        } catch (SQLException e) {
            c.close();
            throw e;
        }
        return c;
    }

    /** A new physical connection as the proxy account, SET ROLE to the caller. */
    static Connection login(String caller) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", System.getenv().getOrDefault("BENCH_LOGIN_USER", "app_proxy"));
        p.setProperty("password", System.getenv("PROXYRA_PASSWORD"));
        Connection c = POSTGRESQL.connect(System.getenv("BENCH_DB_URL"), p);
        try (Statement s = c.createStatement()) {
            s.execute("SET ROLE " + c.unwrap(PGConnection.class).escapeIdentifier(caller));
        } catch (SQLException e) {
            c.close();
            throw e;
        }
        return c;
    }
}
