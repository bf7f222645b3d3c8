package oracle.jdbcfake;

import java.io.PrintWriter;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Logger;

import javax.sql.DataSource;

import dev.proxyra.testing.RecordingOracleConnection;

/**
 * A connection factory whose connections are {@link RecordingOracleConnection}s, in a package whose name starts
 * with {@code oracle.jdbc}: UCP chooses its handling by the factory's class name, and this name puts the fake on
 * UCP's Oracle path (its Oracle pooled connection, {@code UCPOracleProxy} handles, {@code isUsable} and
 * {@code isValid} per borrow, {@code beginRequest}/{@code endRequest}, {@code ORA$HA.*} client info), the path
 * real ojdbc connections take. Not a subclass of ojdbc's {@code OracleDataSource}: UCP then calls
 * {@link #getConnection(String, String)} instead of building the connection with ojdbc's own builder.
 *
 * <p>Where it still differs from the real driver: UCP routes the exact name {@code oracle.jdbc.pool.OracleDataSource}
 * to its replay (Application Continuity) pool, this name to its plain Oracle pool (both share the Oracle pooled
 * connection; proxyra turns replay off, see docs/oracle.md); no network, so timeouts, FAN/ONS, DRCP and the
 * server's session state (package state, roles, {@code V$SESSION}) are not modelled; the SQL the fake answers is
 * only what UCP itself runs (its start-up sharding query) and a recorded {@code execute}.
 */
public class FakeOracleDataSource implements DataSource {
    public static final List<RecordingOracleConnection> OPENED = new CopyOnWriteArrayList<>();
    /** Oracle error codes every new connection raises on openProxySession, by user. */
    public static final Map<String, Integer> REFUSALS = new ConcurrentHashMap<>();
    /** The connection properties UCP handed to the last factory it configured. */
    public static volatile Properties lastConnectionProperties;

    /** Runs inside every openProxySession of every new connection (see RecordingOracleConnection). */
    public static volatile Runnable whileOpeningProxySession;

    private String url;
    private String user;
    private Properties connectionProperties = new Properties();
    private int loginTimeout;

    /** Forgets what earlier tests opened and scripted. */
    public static void reset() {
        OPENED.clear();
        REFUSALS.clear();
        whileOpeningProxySession = null;
        lastConnectionProperties = null;
    }

    @Override
    public Connection getConnection() throws SQLException {
        return open();
    }

    /** A new recording connection, scripted as this class says, recorded in OPENED. */
    public static oracle.jdbc.internal.OracleConnection open() {
        RecordingOracleConnection fake = new RecordingOracleConnection();
        REFUSALS.forEach(fake::refuse);
        fake.whileOpeningProxySession = whileOpeningProxySession;
        OPENED.add(fake);
        return (oracle.jdbc.internal.OracleConnection) fake.connection();
    }

    @Override
    public Connection getConnection(String user, String password) throws SQLException {
        return getConnection();
    }

    public void setURL(String url) {
        this.url = url;
    }

    public String getURL() {
        return url;
    }

    public void setUser(String user) {
        this.user = user;
    }

    public String getUser() {
        return user;
    }

    public void setPassword(String password) {
        // never kept: the fake authenticates nothing
    }

    public void setConnectionProperties(Properties properties) {
        connectionProperties = properties == null ? new Properties() : (Properties) properties.clone();
        lastConnectionProperties = connectionProperties;
    }

    public Properties getConnectionProperties() {
        return (Properties) connectionProperties.clone();
    }

    @Override
    public PrintWriter getLogWriter() {
        return null;
    }

    @Override
    public void setLogWriter(PrintWriter out) {
    }

    @Override
    public void setLoginTimeout(int seconds) {
        loginTimeout = seconds;
    }

    @Override
    public int getLoginTimeout() {
        return loginTimeout;
    }

    @Override
    public Logger getParentLogger() throws SQLFeatureNotSupportedException {
        throw new SQLFeatureNotSupportedException();
    }

    @Override
    public <T> T unwrap(Class<T> iface) throws SQLException {
        if (iface.isInstance(this)) {
            return iface.cast(this);
        }
        throw new SQLException("not a wrapper for " + iface);
    }

    @Override
    public boolean isWrapperFor(Class<?> iface) {
        return iface.isInstance(this);
    }
}
