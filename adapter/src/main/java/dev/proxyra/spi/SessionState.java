package dev.proxyra.spi;

import java.sql.Connection;
import java.sql.SQLException;

/**
 * Per-use session settings the application changed through its handle (dirty bits, as in HikariCP):
 * {@link #restore} puts back only what changed, so a clean return costs no round trip.
 */
public final class SessionState {
    private boolean autoCommitChanged;
    private Integer isolation;
    private Boolean readOnly;
    private String catalog;
    private boolean catalogChanged;
    private String schema;
    private boolean schemaChanged;
    private Integer holdability;
    private Integer networkTimeout;

    synchronized void beginTransaction(Connection physical) throws SQLException {
        if (physical.getAutoCommit()) {
            physical.setAutoCommit(false);
        }
        autoCommitChanged = true;
    }

    synchronized void endTransaction(Connection physical) throws SQLException {
        physical.setAutoCommit(true);
        autoCommitChanged = false;
    }

    synchronized void setAutoCommit(Connection physical, boolean value) throws SQLException {
        physical.setAutoCommit(value);
        autoCommitChanged = true;
    }

    public synchronized void setTransactionIsolation(Connection physical, int level) throws SQLException {
        if (isolation == null) {
            isolation = physical.getTransactionIsolation();
        }
        physical.setTransactionIsolation(level);
    }

    public synchronized void setReadOnly(Connection physical, boolean value) throws SQLException {
        if (readOnly == null) {
            readOnly = physical.isReadOnly();
        }
        physical.setReadOnly(value);
    }

    public synchronized void setCatalog(Connection physical, String value) throws SQLException {
        if (!catalogChanged) {
            catalog = physical.getCatalog();
            catalogChanged = true;
        }
        physical.setCatalog(value);
    }

    public synchronized void setSchema(Connection physical, String value) throws SQLException {
        if (!schemaChanged) {
            schema = physical.getSchema();
            schemaChanged = true;
        }
        physical.setSchema(value);
    }

    public synchronized void setHoldability(Connection physical, int value) throws SQLException {
        if (holdability == null) {
            holdability = physical.getHoldability();
        }
        physical.setHoldability(value);
    }

    public synchronized void setNetworkTimeout(Connection physical, java.util.concurrent.Executor executor, int millis)
            throws SQLException {
        if (networkTimeout == null) {
            networkTimeout = physical.getNetworkTimeout();
        }
        physical.setNetworkTimeout(executor, millis);
    }

    /** Ends any open work without committing it and puts back every setting the application changed. */
    synchronized void restore(Connection physical) throws SQLException {
        if (autoCommitChanged || !physical.getAutoCommit()) {
            if (!physical.getAutoCommit()) {
                physical.rollback();
                physical.setAutoCommit(true);
            }
        }
        if (isolation != null) {
            physical.setTransactionIsolation(isolation);
        }
        if (readOnly != null) {
            physical.setReadOnly(readOnly);
        }
        if (catalogChanged) {
            physical.setCatalog(catalog);
        }
        if (schemaChanged) {
            physical.setSchema(schema);
        }
        if (holdability != null) {
            physical.setHoldability(holdability);
        }
        if (networkTimeout != null) {
            physical.setNetworkTimeout(Runnable::run, networkTimeout);
        }
    }

    synchronized void clear() {
        autoCommitChanged = false;
        isolation = null;
        readOnly = null;
        catalog = null;
        catalogChanged = false;
        schema = null;
        schemaChanged = false;
        holdability = null;
        networkTimeout = null;
    }
}
