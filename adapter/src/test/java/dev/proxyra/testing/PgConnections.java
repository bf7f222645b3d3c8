package dev.proxyra.testing;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.Properties;

/**
 * Test connections to the embedded PostgreSQL that do not depend on DriverManager: a stopping resource
 * adapter deregisters the PostgreSQL driver its class loader registered (so an undeployed rar leaves nothing
 * behind), and in these tests the adapter shares its class loader with the tests.
 */
public final class PgConnections {
    private PgConnections() {
    }

    public static Connection open(String url, String user, String password) throws SQLException {
        Properties props = new Properties();
        props.setProperty("user", user);
        props.setProperty("password", password);
        Connection c = new org.postgresql.Driver().connect(url, props);
        if (c == null) {
            throw new SQLException("not a PostgreSQL URL: " + url);
        }
        return c;
    }

    /** zonky's embedded PostgreSQL checks its start-up through DriverManager: the driver must be registered. */
    public static void ensureDriverRegistered() {
        try {
            if (!org.postgresql.Driver.isRegistered()) {
                org.postgresql.Driver.register();
            }
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }
}
