package dev.proxyra.pool;

import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import dev.proxyra.config.ProxyraConfig;
import dev.proxyra.dialect.Dialect;

/**
 * The pools one resource adapter (or one non-managed factory) opened: one per distinct configuration,
 * so factories with equal settings share physical connections, and all are closed together.
 */
public final class PoolRegistry implements AutoCloseable {
    private final Map<ProxyraConfig, IdentityPool> pools = new HashMap<>();
    private boolean closed;

    public synchronized IdentityPool poolFor(ProxyraConfig config) throws SQLException {
        if (closed) {
            throw new SQLException("proxyra: the resource adapter is stopped; no connection can be opened", "08003");
        }
        IdentityPool pool = pools.get(config);
        if (pool == null) {
            pool = new IdentityPool(config, Dialect.of(config.dialect()));
            pools.put(config, pool);
        }
        return pool;
    }

    public synchronized List<IdentityPool> pools() {
        return new ArrayList<>(pools.values());
    }

    @Override
    public void close() {
        List<IdentityPool> toClose;
        synchronized (this) {
            closed = true;
            toClose = new ArrayList<>(pools.values());
            pools.clear();
        }
        toClose.forEach(IdentityPool::close);
    }
}
