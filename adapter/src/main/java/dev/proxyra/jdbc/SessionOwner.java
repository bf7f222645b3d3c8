package dev.proxyra.jdbc;

import java.sql.SQLException;

import dev.proxyra.identity.DbIdentity;
import dev.proxyra.pool.Lease;

/**
 * What a connection handle needs from the managed connection that owns its session: the lending its calls run on,
 * the fatal-error funnel, transaction demarcation, and the handle's own comings and goings. Everything about the
 * session itself (its connection, identity, settings, taints) is the {@link Lease}'s.
 */
public interface SessionOwner {

    /** The lending the handle's calls run on; 08003 when the owner holds none. */
    Lease session() throws SQLException;

    /** Funnel for every SQLException from the physical connection: reports fatal ones, returns {@code e}. */
    SQLException checkException(SQLException e);

    /** The application's setAutoCommit: begins or commits its local transaction (blocked in a managed one). */
    void setAutoCommit(boolean autoCommit) throws SQLException;

    /** The application's commit or rollback (blocked in a managed transaction). */
    void endTransaction(boolean commit) throws SQLException;

    boolean inManagedTransaction();

    void handleClosed(ConnectionHandle handle);

    void attach(ConnectionHandle handle, DbIdentity identity) throws SQLException;

    void detach(ConnectionHandle handle);
}
