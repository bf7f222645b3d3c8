package dev.proxyra.pool;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Executor;

import dev.proxyra.dialect.Dialect;

/**
 * What one lending of a physical session changed through the JDBC API, recorded so that its return can
 * put back exactly that (dirty bits, as in HikariCP): a clean return costs no round trip. SQL that changes
 * settings is not seen here; {@link Dialect#changeIdentity} resets that when the session next serves
 * another identity.
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
    private Map<String, String> clientInfo;
    private Map<String, Class<?>> typeMap;
    private boolean typeMapChanged;

    /** The server's transaction begins: the session leaves auto-commit until {@link #endTransaction}. */
    public synchronized void beginTransaction(Connection physical) throws SQLException {
        if (physical.getAutoCommit()) {
            physical.setAutoCommit(false);
        }
        autoCommitChanged = true;
    }

    public synchronized void endTransaction(Connection physical) throws SQLException {
        physical.setAutoCommit(true);
        autoCommitChanged = false;
    }

    public synchronized void setAutoCommit(Connection physical, boolean value) throws SQLException {
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

    public synchronized void setNetworkTimeout(Connection physical, Executor executor, int millis) throws SQLException {
        if (networkTimeout == null) {
            networkTimeout = physical.getNetworkTimeout();
        }
        physical.setNetworkTimeout(executor, millis);
    }

    /** Records the values the names had before the application first changed them. */
    public synchronized void beforeClientInfo(Connection physical, Iterable<String> names) throws SQLException {
        for (String name : names) {
            if (clientInfo == null) {
                clientInfo = new HashMap<>(4);
            }
            if (!clientInfo.containsKey(name)) {
                clientInfo.put(name, physical.getClientInfo(name));
            }
        }
    }

    public synchronized void setTypeMap(Connection physical, Map<String, Class<?>> map) throws SQLException {
        if (!typeMapChanged) {
            typeMap = physical.getTypeMap();
            typeMapChanged = true;
        }
        physical.setTypeMap(map);
    }

    /** Whether the application changed client info (which also carries Oracle's client identifier). */
    synchronized boolean clientInfoChanged() {
        return clientInfo != null;
    }

    /**
     * Ends any transaction, however it was begun, without committing it, then puts back every setting the
     * application changed through the JDBC API and forgets the driver's warnings. Throws when that fails:
     * the session must then be discarded.
     */
    synchronized void restore(Connection physical, Dialect dialect) throws SQLException {
        if (dialect.transactionOpen(physical)) {
            dialect.rollback(physical);
        }
        if (autoCommitChanged || !physical.getAutoCommit()) {
            if (!physical.getAutoCommit()) {
                physical.setAutoCommit(true); // nothing is open any more: this commits nothing
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
        if (clientInfo != null) {
            // one name at a time: setClientInfo(Properties) would clear every name it does not hold (ojdbc: UCP's
            // ORA$HA.* entries and the caller's client identifier). A name that had no value gets null back, which
            // both drivers take as "none" (ojdbc removes it and clears MODULE/ACTION; pgjdbc sets ApplicationName ''):
            // ojdbc would keep an empty string as a value of its own.
            for (Map.Entry<String, String> e : clientInfo.entrySet()) {
                physical.setClientInfo(e.getKey(), e.getValue());
            }
        }
        if (typeMapChanged) {
            physical.setTypeMap(typeMap == null ? Map.of() : typeMap);
        }
        physical.clearWarnings();
    }
}
