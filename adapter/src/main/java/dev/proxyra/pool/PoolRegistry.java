package dev.proxyra.pool;

import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.logging.Level;
import java.util.logging.Logger;

import dev.proxyra.SqlState;
import dev.proxyra.config.ProxyraConfig;
import dev.proxyra.config.Secret;
import dev.proxyra.dialect.Dialect;

/**
 * The pools one resource adapter (or one non-managed factory) opened: one per distinct configuration and
 * proxy account, so factories with equal settings share physical connections. A pool no factory uses any
 * more (its factory's properties changed) is retired; all are closed together when the adapter stops.
 */
public final class PoolRegistry implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(PoolRegistry.class.getName());
    private final Map<Key, Entry> pools = new HashMap<>();
    /** Whether a resource adapter owns these pools (else a factory used without one, e.g. in an application). */
    private final boolean ofResourceAdapter;
    /** Retired pools, which close once their last lent session is back, or when the adapter stops. */
    private final Set<IdentityPool> retired = Collections.newSetFromMap(new IdentityHashMap<>());
    private boolean closed;

    /** {@code ofResourceAdapter}: the pools of a deployed adapter, whose bundled drivers it keeps to itself. */
    public PoolRegistry(boolean ofResourceAdapter) {
        this.ofResourceAdapter = ofResourceAdapter;
    }

    /** The proxy account a pool logs in as: the configured one, else the server's credential. */
    private record Key(ProxyraConfig config, String user, Secret password) {
    }

    private static final class Entry {
        final IdentityPool pool;
        final Set<Object> users = Collections.newSetFromMap(new IdentityHashMap<>());

        Entry(IdentityPool pool) {
            this.pool = pool;
        }
    }

    /**
     * The pool for {@code config}, used by {@code user} (a factory); {@code credentialUser}/{@code
     * credentialPassword} (the server's PasswordCredential, may be null) stand in for User and Password where
     * the configuration has none.
     */
    public synchronized IdentityPool poolFor(ProxyraConfig config, String credentialUser, Secret credentialPassword,
                                             Object user) throws SQLException {
        if (closed) {
            throw new SQLException("proxyra: the resource adapter is stopped; no connection can be opened",
                    SqlState.CONNECTION_DOES_NOT_EXIST);
        }
        Key key = new Key(config, config.user() != null ? config.user() : credentialUser,
                config.password() != null ? config.password() : credentialPassword);
        Entry entry = pools.get(key);
        if (entry == null) {
            if (ofResourceAdapter) {
                prepareProcessWideState(); // a server may open pools before it starts the adapter
            }
            entry = new Entry(new IdentityPool(config, Dialect.of(config), key.user(), key.password()));
            pools.put(key, entry);
        }
        entry.users.add(user);
        return entry.pool;
    }

    /**
     * {@code user} no longer uses {@code pool} (its configuration changed): the pool is retired when no other
     * factory uses it, closing its physical connections once the last lent one comes back.
     */
    public void release(IdentityPool pool, Object user) {
        boolean retire = false;
        synchronized (this) {
            for (var it = pools.values().iterator(); it.hasNext(); ) {
                Entry e = it.next();
                if (e.pool == pool) {
                    e.users.remove(user);
                    if (e.users.isEmpty()) {
                        it.remove();
                        retired.removeIf(IdentityPool::isDestroyed);
                        retired.add(pool);
                        retire = true;
                    }
                    break;
                }
            }
        }
        if (retire) {
            pool.retire();
        }
    }

    public synchronized boolean isClosed() {
        return closed;
    }

    public synchronized List<IdentityPool> pools() {
        List<IdentityPool> all = new ArrayList<>();
        pools.values().forEach(e -> all.add(e.pool));
        return all;
    }

    /** For a starting resource adapter: see {@link UcpRuntime#resourceAdapterInUse}. */
    public static void prepareProcessWideState() {
        UcpRuntime.resourceAdapterInUse();
    }

    /**
     * For a stopping resource adapter, after {@link #close}: removes what UCP and the drivers of this copy of
     * the adapter registered process-wide (DriverManager, MBeans), so that its class loader can be collected.
     */
    public static void releaseProcessWideState() {
        UcpRuntime.release();
    }

    @Override
    public void close() {
        List<IdentityPool> toClose;
        synchronized (this) {
            closed = true;
            toClose = new ArrayList<>();
            pools.values().forEach(e -> toClose.add(e.pool));
            pools.clear();
            toClose.addAll(retired);
            retired.clear();
        }
        for (IdentityPool pool : toClose) {
            try {
                pool.close();
            } catch (RuntimeException | LinkageError e) {
                // one pool that fails to close must not keep the others open
                LOG.log(Level.WARNING, "proxyra: stopping the adapter failed for a pool: " + e, e);
            }
        }
    }
}
