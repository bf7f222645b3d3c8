package dev.proxyra.pool;

import java.lang.management.ManagementFactory;
import java.sql.Driver;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Collections;
import java.util.logging.Level;
import java.util.logging.Logger;

import javax.management.MBeanServer;
import javax.management.ObjectName;

/**
 * What UCP and the bundled drivers set up once per class loader, i.e. per deployed copy of proxyra.rar,
 * started with the first pool and torn down with the last, so that nothing outside the adapter keeps its
 * class loader (or an application's) reachable after undeploy:
 * <ul>
 * <li>UCP's timer and task threads, and the proxy classes it generates and loads through the thread
 * context class loader, are created only under the adapter's own loader ({@link #underAdapterLoader}), never
 * an application's (whose threads' context loader they would inherit, and which on WildFly and Open Liberty
 * cannot see UCP's classes at all); they are stopped with the last pool;</li>
 * <li>UCP's JVM shutdown hook, which would pin this loader until the JVM exits, is not registered: the
 * adapter stops UCP itself;</li>
 * <li>when the resource adapter stops ({@link #release}), the JDBC drivers this loader registered in
 * DriverManager, the MBeans of classes from this loader (UCP's, ojdbc's) and the resource bundles the JDK
 * cached for it are removed. Not when a
 * factory used outside a server closes: there the adapter's loader is usually the application's, whose
 * own DriverManager use must keep working.</li>
 * </ul>
 */
final class UcpRuntime {
    private static final Logger LOG = Logger.getLogger(UcpRuntime.class.getName());
    private static final ClassLoader ADAPTER = UcpRuntime.class.getClassLoader();
    private static final String SHUTDOWN_HOOK_PROPERTY = "oracle.ucp.enableShutdownHook";
    private static final String UCP_MANAGER = "oracle.ucp.admin.UniversalConnectionPoolManagerBase";

    private static int openPools;
    private static boolean ucpInitialised;

    private UcpRuntime() {
    }

    @FunctionalInterface
    interface SqlAction<T> {
        T run() throws SQLException;
    }

    /**
     * Runs UCP code with the adapter's class loader as the thread's context loader: threads UCP starts
     * inherit it, and UCP loads its generated proxy classes through it.
     */
    static <T> T underAdapterLoader(SqlAction<T> action) throws SQLException {
        Thread thread = Thread.currentThread();
        ClassLoader previous = thread.getContextClassLoader();
        if (previous == ADAPTER) {
            return action.run();
        }
        thread.setContextClassLoader(ADAPTER);
        try {
            return action.run();
        } finally {
            thread.setContextClassLoader(previous);
        }
    }

    static synchronized void poolOpened() throws SQLException {
        if (openPools++ == 0) {
            underAdapterLoader(() -> {
                start();
                return null;
            });
        }
    }

    static synchronized void poolClosed() {
        if (--openPools == 0) {
            try {
                underAdapterLoader(() -> {
                    stop();
                    return null;
                });
            } catch (SQLException | RuntimeException e) {
                LOG.log(Level.WARNING, "proxyra: releasing UCP's and the drivers' global state failed", e);
            }
        }
    }

    static synchronized int openPools() {
        return openPools;
    }

    private static void start() throws SQLException {
        if (!ucpInitialised) {
            // UCP's manager registers its shutdown hook in its static initialiser, if this property allows.
            String before = System.getProperty(SHUTDOWN_HOOK_PROPERTY);
            System.setProperty(SHUTDOWN_HOOK_PROPERTY, "false");
            try {
                Class.forName(UCP_MANAGER, true, ADAPTER);
            } catch (ClassNotFoundException e) {
                throw new SQLException("proxyra: UCP is missing from the adapter's class path", "08001", e);
            } finally {
                if (before == null) {
                    System.clearProperty(SHUTDOWN_HOOK_PROPERTY);
                } else {
                    System.setProperty(SHUTDOWN_HOOK_PROPERTY, before);
                }
            }
            ucpInitialised = true;
        }
        // pgjdbc's DataSource connects through DriverManager: register its driver again after a stop
        if (!org.postgresql.Driver.isRegistered()) {
            org.postgresql.Driver.register();
        }
    }

    private static void stop() {
        oracle.ucp.admin.UniversalConnectionPoolManagerBase.stopExecutionEnvironment();
    }

    /**
     * The resource adapter stopped: with no pool left in this loader, removes what the drivers and UCP
     * registered globally. The next pool registers the PostgreSQL driver again.
     */
    static synchronized void release() {
        if (openPools == 0) {
            deregisterDrivers();
            unregisterMBeans();
            // the drivers' message bundles: the JDK keeps them softly, i.e. until memory runs short
            java.util.ResourceBundle.clearCache(ADAPTER);
            java.beans.Introspector.flushCaches(); // what else UCP introspected on this thread group (Tomcat does the same)
        }
    }

    private static void deregisterDrivers() {
        try {
            if (org.postgresql.Driver.isRegistered()) {
                org.postgresql.Driver.deregister();
            }
        } catch (SQLException e) {
            LOG.log(Level.FINE, "proxyra: deregistering the PostgreSQL driver", e);
        }
        for (Driver driver : Collections.list(DriverManager.getDrivers())) {
            if (driver.getClass().getClassLoader() == ADAPTER) {
                try {
                    DriverManager.deregisterDriver(driver);
                } catch (SQLException e) {
                    LOG.log(Level.FINE, "proxyra: deregistering " + driver.getClass().getName(), e);
                }
            }
        }
    }

    /**
     * UCP sets the connection factory's properties through java.beans, whose caches (per thread group, and the
     * JDK's class-info cache) keep the classes, and so this loader, softly reachable after undeploy. Called on
     * the thread that made UCP create the pool, right after.
     */
    static void forgetIntrospection(String factoryClassName) {
        forgetIntrospection(oracle.ucp.jdbc.PoolDataSourceImpl.class);
        try {
            forgetIntrospection(Class.forName(factoryClassName, false, ADAPTER));
        } catch (ClassNotFoundException | LinkageError e) {
            // UCP could not load it either: nothing was cached
        }
    }

    /** The class and its superclasses: the JDK caches what it learnt of each. */
    private static void forgetIntrospection(Class<?> type) {
        for (Class<?> c = type; c != null && c.getClassLoader() == ADAPTER; c = c.getSuperclass()) {
            java.beans.Introspector.flushFromCaches(c);
        }
    }

    /**
     * MBeans of classes from this loader (ojdbc's), and UCP's: UCP registers model MBeans (a JDK class) named
     * after the identity hash of its manager MBean class, i.e. of this loader's copy of it.
     */
    private static void unregisterMBeans() {
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        String ours = "(" + oracle.ucp.admin.UniversalConnectionPoolManagerMBeanImpl.class.hashCode() + ")";
        for (ObjectName name : server.queryNames(null, null)) {
            try {
                boolean ucp = name.getDomain().startsWith("oracle.ucp") && name.toString().contains(ours);
                if (ucp || (server.getClassLoaderFor(name) == ADAPTER && !name.getDomain().equals(OWN_DOMAIN))) {
                    server.unregisterMBean(name);
                }
            } catch (Exception e) {
                LOG.log(Level.FINE, "proxyra: unregistering MBean " + name, e);
            }
        }
    }

    /** The adapter's own MBeans are unregistered by their owners. */
    private static final String OWN_DOMAIN = "dev.proxyra";
}
