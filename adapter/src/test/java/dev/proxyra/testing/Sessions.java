package dev.proxyra.testing;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

import dev.proxyra.jdbc.ProxyraDataSource;

/** What tests ask of a session: who it runs as, its backend process, a request as a caller. */
public final class Sessions {
    private Sessions() {
    }

    /** current_user and session_user of the session behind {@code c}. */
    public static String[] whoami(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("select current_user, session_user")) {
            rs.next();
            return new String[] {rs.getString(1), rs.getString(2)};
        }
    }

    public static String currentUser(Connection c) throws SQLException {
        return whoami(c)[0];
    }

    public static int backendPid(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("select pg_backend_pid()")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    /** Runs a request as {@code caller}, checking it runs as that caller; the backend process it ran on. */
    public static int requestAs(ProxyraDataSource ds, String caller) throws SQLException {
        TestCallers.set(caller);
        try (Connection c = ds.getConnection()) {
            if (!caller.equals(currentUser(c))) {
                throw new AssertionError("a request as " + caller + " ran as " + currentUser(c));
            }
            return backendPid(c);
        }
    }
}
