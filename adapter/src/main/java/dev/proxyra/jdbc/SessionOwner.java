package dev.proxyra.jdbc;

import java.sql.Connection;
import java.sql.SQLException;

import dev.proxyra.dialect.Dialect;
import dev.proxyra.identity.DbIdentity;
import dev.proxyra.pool.SessionState;

/** What a connection handle needs from the managed connection that owns its physical session. */
public interface SessionOwner {

    /** The physical connection, or 08003 when the owner holds none. */
    Connection physical() throws SQLException;

    DbIdentity identity();

    /** The database's rules: which driver interfaces a handle may be unwrapped to. */
    Dialect dialect();

    /** Funnel for every SQLException from the physical connection: reports fatal ones, returns {@code e}. */
    SQLException checkException(SQLException e);

    /** Notes SQL the application runs (identity-change scan). */
    void sqlSeen(String sql);

    /** What this lending of the session changed through the JDBC API; 08003 when the owner holds no session. */
    SessionState state() throws SQLException;

    void setAutoCommit(boolean autoCommit) throws SQLException;

    void endTransaction(boolean commit) throws SQLException;

    boolean inManagedTransaction();

    void handleClosed(ConnectionHandle handle);

    /**
     * A handle closed while calls of the application were still inside the driver on this session: they can still
     * change it after any reset, so it is never lent again (their work is cancelled when it is returned).
     */
    void callsStillRunning();

    void attach(ConnectionHandle handle, DbIdentity identity) throws SQLException;

    void detach(ConnectionHandle handle);
}
