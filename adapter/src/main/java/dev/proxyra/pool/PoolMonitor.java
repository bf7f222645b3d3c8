package dev.proxyra.pool;

import java.lang.management.ManagementFactory;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import javax.management.InstanceAlreadyExistsException;
import javax.management.JMException;
import javax.management.MBeanServer;
import javax.management.ObjectName;

import dev.proxyra.monitoring.HealthReport;
import dev.proxyra.monitoring.PoolMetrics;
import dev.proxyra.monitoring.PoolMetrics.Discard;
import dev.proxyra.monitoring.PoolMetrics.Outcome;
import dev.proxyra.monitoring.ProxyraPoolMXBean;
import dev.proxyra.monitoring.Refusal;

/**
 * A pool's MBean, {@code dev.proxyra:type=Pool,name=<name>} in the platform MBean server, from the pool's start to its
 * close or retirement. Unregistering matters as much as registering: a registered MBean holds the adapter's class
 * loader, which must go when the adapter is undeployed.
 */
public final class PoolMonitor implements ProxyraPoolMXBean {
    private static final Logger LOG = Logger.getLogger(PoolMonitor.class.getName());
    public static final String DOMAIN = "dev.proxyra";
    /** The database name at the end of a PostgreSQL URL or an Oracle service/SID. */
    private static final Pattern DATABASE = Pattern.compile("[/:]([A-Za-z0-9_$.#-]+)(?:\\?.*)?$");

    private final IdentityPool pool;
    private final PoolMetrics metrics;
    private volatile ObjectName name;

    private PoolMonitor(IdentityPool pool) {
        this.pool = pool;
        this.metrics = pool.metrics();
    }

    /** {@code user@database}, the name of a pool without PoolName. */
    static String defaultName(String user, String url) {
        Matcher m = DATABASE.matcher(url == null ? "" : url);
        String database = m.find() ? m.group(1) : "database";
        return (user == null ? "proxy" : user) + "@" + database;
    }

    /** The object name for a pool name, quoted when the name holds a character ObjectName reserves. */
    public static ObjectName objectName(String poolName) {
        try {
            String value = poolName.matches("[A-Za-z0-9_@.#$-]+") ? poolName : ObjectName.quote(poolName);
            return new ObjectName(DOMAIN + ":type=Pool,name=" + value);
        } catch (JMException e) {
            throw new IllegalArgumentException("PoolName '" + poolName + "' cannot be a JMX name: " + e.getMessage(), e);
        }
    }

    /**
     * Registers the pool's MBean. A second open pool of the same name (two pools without PoolName on the same
     * database and account) gets {@code name-2}, and a warning says to set PoolName.
     */
    static PoolMonitor register(IdentityPool pool) {
        PoolMonitor monitor = new PoolMonitor(pool);
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        for (int n = 1; n <= 100; n++) {
            ObjectName candidate = objectName(n == 1 ? pool.name() : pool.name() + "-" + n);
            try {
                server.registerMBean(monitor, candidate);
                monitor.name = candidate;
                if (n > 1) {
                    LOG.warning("proxyra: another open pool is named " + pool.name() + "; this one is registered as "
                            + candidate + ". Set PoolName on each pool to give them stable names.");
                }
                return monitor;
            } catch (InstanceAlreadyExistsException taken) {
                // try the next suffix
            } catch (JMException | RuntimeException e) {
                LOG.log(Level.WARNING, "proxyra: pool " + pool.name() + " cannot be registered in JMX; it works, "
                        + "but shows no metrics", e);
                return monitor;
            }
        }
        LOG.warning("proxyra: pool " + pool.name() + " was not registered in JMX: 100 pools of that name are open");
        return monitor;
    }

    /** The name it is registered under, or null when it is not (any more). */
    public ObjectName objectName() {
        return name;
    }

    /** Idempotent. */
    synchronized void unregister() {
        ObjectName registered = name;
        if (registered == null) {
            return;
        }
        name = null;
        try {
            ManagementFactory.getPlatformMBeanServer().unregisterMBean(registered);
        } catch (JMException e) {
            LOG.log(Level.FINE, "proxyra: unregistering " + registered, e);
        }
    }

    @Override
    public String getPoolName() {
        return pool.name();
    }

    @Override
    public String getConfiguration() {
        return pool.config().toString();
    }

    @Override
    public int getPhysicalConnections() {
        return pool.totalCount();
    }

    @Override
    public int getIdleConnections() {
        int total = pool.totalCount();
        int borrowed = pool.borrowedCount();
        return total < 0 || borrowed < 0 ? -1 : total - borrowed;
    }

    @Override
    public int getBorrowedConnections() {
        return pool.lentOut();
    }

    @Override
    public int getPeakBorrowedConnections() {
        return metrics.peakBorrowed();
    }

    @Override
    public int getMaxPoolSize() {
        return pool.config().maxPoolSize();
    }

    @Override
    public long getBorrowsWarm() {
        return metrics.borrows(Outcome.WARM);
    }

    @Override
    public long getBorrowsSwitched() {
        return metrics.borrows(Outcome.SWITCHED);
    }

    @Override
    public long getBorrowsNewPhysical() {
        return metrics.borrows(Outcome.NEW_PHYSICAL);
    }

    @Override
    public long getBorrowTimeCount() {
        return metrics.borrowCount();
    }

    @Override
    public double getBorrowTimeTotalMillis() {
        return metrics.borrowMicrosTotal() / 1000.0;
    }

    @Override
    public double getBorrowTimeMaxMillis() {
        return metrics.borrowMicrosMax() / 1000.0;
    }

    @Override
    public double getBorrowTimeP50Millis() {
        return metrics.borrowMicrosAt(50) / 1000.0;
    }

    @Override
    public double getBorrowTimeP95Millis() {
        return metrics.borrowMicrosAt(95) / 1000.0;
    }

    @Override
    public double getBorrowTimeP99Millis() {
        return metrics.borrowMicrosAt(99) / 1000.0;
    }

    @Override
    public long getRefusalsNoCaller() {
        return metrics.refusals(Refusal.NO_CALLER);
    }

    @Override
    public long getRefusalsNotMapped() {
        return metrics.refusals(Refusal.NOT_MAPPED);
    }

    @Override
    public long getRefusalsNotAuthorized() {
        return metrics.refusals(Refusal.NOT_AUTHORIZED);
    }

    @Override
    public long getRefusalsPoolExhausted() {
        return metrics.refusals(Refusal.POOL_EXHAUSTED);
    }

    @Override
    public long getRefusalsDatabaseUnreachable() {
        return metrics.refusals(Refusal.DATABASE_UNREACHABLE);
    }

    @Override
    public long getRefusalsConfiguration() {
        return metrics.refusals(Refusal.CONFIGURATION);
    }

    @Override
    public long getDiscardsFatalError() {
        return metrics.discards(Discard.FATAL_ERROR);
    }

    @Override
    public long getDiscardsIdentityChanged() {
        return metrics.discards(Discard.IDENTITY_CHANGED);
    }

    @Override
    public long getDiscardsStateNotReset() {
        return metrics.discards(Discard.STATE_NOT_RESET);
    }

    @Override
    public int getDistinctIdentities() {
        return metrics.distinctIdentities();
    }

    @Override
    public HealthReport checkHealth() {
        return pool.checkHealth();
    }
}
