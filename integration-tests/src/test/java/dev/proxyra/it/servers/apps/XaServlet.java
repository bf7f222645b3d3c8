package dev.proxyra.it.servers.apps;

import java.io.IOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

import javax.naming.InitialContext;
import javax.naming.NamingException;
import javax.sql.DataSource;

import jakarta.annotation.Resource;
import jakarta.servlet.annotation.WebServlet;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.transaction.Status;
import jakarta.transaction.UserTransaction;

/**
 * xa.war: one JTA transaction over two proxyra pools on two databases ({@code jdbc/stockXa} and {@code jdbc/ledgerXa},
 * both XATransaction), begun and ended by the application with UserTransaction. {@code POST /xa/commit?item=...}
 * writes the item into both and commits; {@code /xa/rollback} writes and rolls back; {@code /xa/mixed/commit} and
 * {@code /xa/mixed/rollback} do the same with the ledger's write through the server's own XA data source
 * ({@code jdbc/ledgerNative}, pgjdbc's PGXADataSource, as the superuser). The answer names the role each insert ran
 * as ({@code current_user}) and the outcome.
 */
@WebServlet("/xa/*")
public class XaServlet extends HttpServlet {
    private static final long serialVersionUID = 1L;
    public static final String STOCK = "java:comp/env/jdbc/stockXa";
    public static final String LEDGER = "java:comp/env/jdbc/ledgerXa";
    /** The server's own XA data source on the ledger database (pgjdbc's PGXADataSource), not proxyra. */
    public static final String LEDGER_NATIVE = "java:comp/env/jdbc/ledgerNative";

    @Resource
    private UserTransaction transaction;

    @Override
    protected void doPost(HttpServletRequest request, HttpServletResponse response) throws IOException {
        String caller = request.getRemoteUser();
        String path = request.getPathInfo() == null ? "" : request.getPathInfo();
        boolean mixed = path.startsWith("/mixed/"); // the second write through the server's own XA data source
        String action = mixed ? path.substring("/mixed".length()) : path;
        boolean commit = "/commit".equals(action);
        if (!commit && !"/rollback".equals(action)) {
            response.sendError(404);
            return;
        }
        String item = request.getParameter("item");
        DatabaseIdentity.answer(response, caller, () -> {
            transaction.begin();
            try {
                String stock = insert(lookup(STOCK), item);
                String ledger = insert(lookup(mixed ? LEDGER_NATIVE : LEDGER), item);
                if (commit) {
                    transaction.commit();
                } else {
                    transaction.rollback();
                }
                return "{\"caller\":" + DatabaseIdentity.json(caller) + ",\"stock\":" + DatabaseIdentity.json(stock)
                        + ",\"ledger\":" + DatabaseIdentity.json(ledger) + ",\"outcome\":\""
                        + (commit ? "committed" : "rolledBack") + "\"}";
            } finally {
                if (transaction.getStatus() != Status.STATUS_NO_TRANSACTION) {
                    transaction.rollback();
                }
            }
        });
    }

    private static DataSource lookup(String name) {
        try {
            return (DataSource) new InitialContext().lookup(name);
        } catch (NamingException e) {
            throw new IllegalStateException("cannot look up " + name, e);
        }
    }

    /** Inserts the item; returns current_user, the role the insert ran as. */
    private static String insert(DataSource ds, String item) throws SQLException {
        try (Connection c = ds.getConnection();
             PreparedStatement ps = c.prepareStatement("insert into entries (item) values (?) returning current_user")) {
            ps.setString(1, item);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getString(1);
            }
        }
    }
}
