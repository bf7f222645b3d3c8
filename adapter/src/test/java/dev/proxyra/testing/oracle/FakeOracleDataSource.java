package dev.proxyra.testing.oracle;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import oracle.jdbc.pool.OracleDataSource;

import dev.proxyra.testing.RecordingOracleConnection;

/**
 * ojdbc's own connection factory class with the network part replaced: UCP recognises it as Oracle's
 * and pools its connections exactly as it pools real ones, while every call proxyra makes through UCP
 * lands on a {@link RecordingOracleConnection}.
 */
public class FakeOracleDataSource extends OracleDataSource {
    private static final long serialVersionUID = 1L;
    public static final List<RecordingOracleConnection> OPENED = new CopyOnWriteArrayList<>();
    /** Oracle error codes every new connection raises on openProxySession, by user. */
    public static final java.util.Map<String, Integer> REFUSALS = new java.util.concurrent.ConcurrentHashMap<>();

    /** Runs inside every openProxySession of every new connection (see RecordingOracleConnection). */
    public static volatile Runnable whileOpeningProxySession;

    /** Forgets what earlier tests opened and scripted. */
    public static void reset() {
        OPENED.clear();
        REFUSALS.clear();
        whileOpeningProxySession = null;
    }

    public FakeOracleDataSource() throws SQLException {
        super();
    }

    @Override
    public Connection getConnection() throws SQLException {
        RecordingOracleConnection fake = new RecordingOracleConnection();
        REFUSALS.forEach(fake::refuse);
        fake.whileOpeningProxySession = whileOpeningProxySession;
        OPENED.add(fake);
        return fake.connection();
    }

    @Override
    public Connection getConnection(String user, String password) throws SQLException {
        return getConnection();
    }
}
