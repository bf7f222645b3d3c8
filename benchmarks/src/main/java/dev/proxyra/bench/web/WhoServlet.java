package dev.proxyra.bench.web;

import java.io.IOException;
import java.security.Principal;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;

import javax.sql.DataSource;

import jakarta.annotation.Resource;
import jakarta.servlet.annotation.WebServlet;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.postgresql.PGConnection;

/**
 * The load test's one endpoint, served three ways: {@code /who/proxyra} takes a connection from proxyra
 * (runs as the caller; {@code /who/proxyra-scan} the same with IdentityCheck=SCAN), {@code /who/shared} from Payara's own JDBC pool logged in as one shared account
 * (the database does not know the caller), {@code /who/login} opens a new physical connection per request
 * and sets the caller's role. Each runs {@code select current_user} and answers with it. Deployed only by
 * the load test ({@code dev.proxyra.bench.load.LoadMain}), which requires a signed-in caller on every request.
 */
@WebServlet("/who/*")
public class WhoServlet extends HttpServlet {
    private static final long serialVersionUID = 1L;

    @Resource(lookup = "jdbc/proxyra")
    private transient DataSource proxyra;

    @Resource(lookup = "jdbc/proxyra-scan")
    private transient DataSource proxyraScan;

    @Resource(lookup = "jdbc/shared")
    private transient DataSource shared;

    @Override
    protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        Principal caller = req.getUserPrincipal();
        if (caller == null) {
            resp.sendError(401);
            return;
        }
        String which = req.getPathInfo() == null ? "" : req.getPathInfo();
        try {
            String user = switch (which) {
                case "/proxyra" -> query(proxyra.getConnection());
                case "/proxyra-scan" -> query(proxyraScan.getConnection());
                case "/shared" -> query(shared.getConnection());
                case "/login" -> login(caller.getName());
                default -> null;
            };
            if (user == null) {
                resp.sendError(404);
                return;
            }
            resp.setContentType("text/plain");
            resp.getWriter().write(user);
        } catch (SQLException e) {
            resp.sendError(500, e.getSQLState() + " " + e.getMessage());
        }
    }

    private static String query(Connection c) throws SQLException {
        try (c; Statement s = c.createStatement(); ResultSet rs = s.executeQuery("select current_user")) {
            rs.next();
            return rs.getString(1);
        }
    }

    /** A new physical connection as the proxy account, SET ROLE to the caller, the query, close. */
    private static String login(String caller) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", System.getenv().getOrDefault("BENCH_LOGIN_USER", "app_proxy"));
        p.setProperty("password", System.getenv("PROXYRA_PASSWORD"));
        try (Connection c = DriverManager.getConnection(System.getenv("BENCH_DB_URL"), p);
             Statement s = c.createStatement()) {
            s.execute("SET ROLE " + c.unwrap(PGConnection.class).escapeIdentifier(caller));
            try (ResultSet rs = s.executeQuery("select current_user")) {
                rs.next();
                return rs.getString(1);
            }
        }
    }
}
