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
    private final Map<Key, IdentityPool> pools = new HashMap<>();
    private boolean closed;

    /** The proxy account a pool logs in as: the configured one, else the server's credential. */
    private record Key(ProxyraConfig config, String user, String password) {
    }

    /**
     * The pool for {@code config}; {@code credentialUser}/{@code credentialPassword} (the server's
     * PasswordCredential, may be null) stand in for User and Password where the configuration has none.
     */
    public synchronized IdentityPool poolFor(ProxyraConfig config, String credentialUser, String credentialPassword)
            throws SQLException {
        if (closed) {
            throw new SQLException("proxyra: the resource adapter is stopped; no connection can be opened", "08003");
        }
        Key key = new Key(config, config.user() != null ? config.user() : credentialUser,
                config.password() != null ? config.password() : credentialPassword);
        IdentityPool pool = pools.get(key);
        if (pool == null) {
            pool = new IdentityPool(config, Dialect.of(config.dialect()), key.user(), key.password());
            pools.put(key, pool);
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
