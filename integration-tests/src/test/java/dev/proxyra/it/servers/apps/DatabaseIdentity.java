package dev.proxyra.it.servers.apps;

import java.io.IOException;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

import javax.naming.InitialContext;
import javax.naming.NamingException;
import javax.sql.DataSource;

import jakarta.servlet.http.HttpServletResponse;

/**
 * What the test applications answer: who the database says the session runs as, as a line of JSON, or the refusal
 * (403 for SQLState class 28, 500 otherwise). Plain JDBC and JNDI, nothing server-specific.
 */
public final class DatabaseIdentity {
    /** The application's own name for proxyra's DataSource: the resource-ref of web.xml. */
    public static final String RESOURCE = "java:comp/env/jdbc/erp";

    private DatabaseIdentity() {
    }

    public static DataSource dataSource() {
        try {
            return (DataSource) new InitialContext().lookup(RESOURCE);
        } catch (NamingException e) {
            throw new IllegalStateException("cannot look up " + RESOURCE, e);
        }
    }

    /** {"caller":..., "databaseUser": current_user, "sessionUser": session_user}. */
    public static String query(DataSource ds, String caller) throws SQLException {
        try (Connection c = ds.getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("select current_user, session_user")) {
            rs.next();
            return "{\"caller\":" + json(caller) + ",\"databaseUser\":" + json(rs.getString(1))
                    + ",\"sessionUser\":" + json(rs.getString(2)) + "}";
        }
    }

    /** Writes {@link #query}'s answer, or the refusal. */
    public static void answer(HttpServletResponse response, String caller, Query query) throws IOException {
        response.setContentType("application/json");
        String body;
        try {
            body = query.run();
        } catch (Exception e) {
            SQLException sql = null;
            for (Throwable t = e; t != null && sql == null; t = t.getCause()) {
                if (t instanceof SQLException s) {
                    sql = s;
                }
            }
            if (sql == null) {
                throw new IOException(e);
            }
            String state = sql.getSQLState() == null ? "" : sql.getSQLState();
            response.setStatus(state.startsWith("28") ? 403 : 500);
            body = "{\"caller\":" + json(caller) + ",\"sqlState\":" + json(state) + ",\"message\":"
                    + json(sql.getMessage()) + "}";
        }
        response.getWriter().write(body);
    }

    @FunctionalInterface
    public interface Query {
        String run() throws Exception;
    }

    static String json(String s) {
        if (s == null) {
            return "null";
        }
        StringBuilder sb = new StringBuilder("\"");
        for (char ch : s.toCharArray()) {
            switch (ch) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                default -> {
                    if (ch < 0x20) {
                        sb.append(String.format("\\u%04x", (int) ch));
                    } else {
                        sb.append(ch);
                    }
                }
            }
        }
        return sb.append('"').toString();
    }
}
