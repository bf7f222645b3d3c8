package dev.proxyra.pool;

import java.lang.management.ManagementFactory;
import java.sql.Driver;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.logging.Level;
import java.util.logging.Logger;

import javax.management.MBeanServer;
import javax.management.ObjectName;

import dev.proxyra.SqlState;

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
 * <li>under a resource adapter, the bundled drivers stay out of DriverManager (proxyra connects through the
 * drivers themselves; only the adapter's own copies: a driver class a parent loader lends it, such as a server's
 * pgjdbc library, is the server's and stays registered, and an adapter loaded by the JVM's application class
 * loader owns no driver at all): a
 * registered driver makes every DriverManager lookup anywhere in the server load its class through that
 * caller's class loader, and a long-lived application's loader that found the adapter's copy keeps the
 * adapter's loader alive in the JVM's own dictionary, which no heap reference shows. For the same reason
 * {@link #initialiseDriverManager} lets DriverManager load its drivers once under the system class loader,
 * before a server scan (Payara's JDBC leak prevention) makes it do that through an application's loader that
 * can see the adapter's drivers;</li>
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
    /**
     * Whether the drivers bundled with the adapter are the adapter's alone. Loaded by the JVM's application class
     * loader (or one of its parents), as in a Java SE program or a test that starts the resource adapter itself, the
     * adapter's classes are the application's, and so are its drivers: their DriverManager registration is what
     * the application's own {@code DriverManager.getConnection} and pgjdbc's data sources connect through.
     */
    private static final boolean OWNS_BUNDLED_DRIVERS = !isApplicationLoaderOrParent(ADAPTER);
    private static final String SHUTDOWN_HOOK_PROPERTY = "oracle.ucp.enableShutdownHook";
    private static final String UCP_MANAGER = "oracle.ucp.admin.UniversalConnectionPoolManagerBase";

    private static int openPools;
    private static boolean ucpInitialised;
    private static boolean driverManagerInitialised;
    /** A resource adapter of this copy of the classes opened pools: the bundled drivers are its own. */
    private static boolean resourceAdapterInUse;


    private UcpRuntime() {
    }

    @FunctionalInterface
    interface SqlAction<T> {
        T run() throws SQLException;
    }

    /**
     * Runs UCP code with the adapter's class loader as the thread's context loader: threads UCP starts
     * inherit it, and UCP loads its generated proxy classes through it. The code runs privileged, too: before
     * Java 24 a new thread also keeps its creator's AccessControlContext, the protection domains of every class
     * on the creating stack, each holding its class loader. UCP starts its timer and worker threads lazily, on a
     * server's request thread (WildFly opens a pool on an application's first use of {@code jdbc/erp}), and a heap
     * dump after redeploys showed UCP's "UCP Clock" thread keeping the application of that request this way: its
     * class loader stayed reachable for as long as the adapter ran, after the application was undeployed.
     * Privileged, the stack a new thread keeps ends at this class: the adapter's and UCP's own domains.
     */
    static <T> T underAdapterLoader(SqlAction<T> action) throws SQLException {
        Thread thread = Thread.currentThread();
        ClassLoader previous = thread.getContextClassLoader();
        if (previous == ADAPTER) {
            return privileged(action);
        }
        thread.setContextClassLoader(ADAPTER);
        try {
            return privileged(action);
        } finally {
            thread.setContextClassLoader(previous);
        }
    }

    @SuppressWarnings("removal") // AccessController: what Java 17 to 23 still give a new thread, see above
    private static <T> T privileged(SqlAction<T> action) throws SQLException {
        try {
            return java.security.AccessController.doPrivileged(
                    (java.security.PrivilegedExceptionAction<T>) action::run);
        } catch (java.security.PrivilegedActionException e) {
            throw (SQLException) e.getException(); // the only checked exception an SqlAction throws
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
            } catch (SQLException | RuntimeException | LinkageError e) {
                LOG.log(Level.WARNING, "proxyra: releasing UCP's and the drivers' global state failed", e);
            }
        }
    }

    /**
     * DriverManager loads the JDBC drivers it can find once per JVM, through the thread's context class loader
     * of its first use: here the system class loader, as in a plain JVM, and before a server scan (Payara's JDBC
     * leak prevention) makes it load the adapter's drivers through an application's loader. The call comes from
     * a class of its own throwaway loader: called from the adapter's, DriverManager would initialise the
     * adapter's copy of every driver someone else registered. Called when the adapter starts or opens its first
     * pool, whichever comes first; once per copy of the adapter.
     */
    /**
     * A resource adapter of this copy of the classes starts or opens a pool: DriverManager is initialised (see
     * {@link #initialiseDriverManager}) and the drivers this copy bundles are kept out of it. Not for a factory used
     * without a resource adapter: there the adapter's classes are usually the application's, and so are its
     * drivers, whose DriverManager registration the application may rely on.
     */
    static synchronized void resourceAdapterInUse() {
        resourceAdapterInUse = OWNS_BUNDLED_DRIVERS;
        initialiseDriverManager();
    }

    static synchronized void initialiseDriverManager() {
        if (driverManagerInitialised) {
            return;
        }
        driverManagerInitialised = true;
        Thread thread = Thread.currentThread();
        ClassLoader context = thread.getContextClassLoader();
        thread.setContextClassLoader(ClassLoader.getSystemClassLoader());
        try {
            Runnable probe = (Runnable) new ProbeLoader().loadProbe().getConstructor().newInstance();
            probe.run();
        } catch (ReflectiveOperationException | java.io.IOException | RuntimeException | LinkageError e) {
            LOG.log(Level.FINE, "proxyra: initialising DriverManager", e);
        } finally {
            thread.setContextClassLoader(context);
        }
    }

    /** Defines {@link DriverManagerProbe} once more, seeing nothing but the platform's classes. */
    private static final class ProbeLoader extends ClassLoader {
        ProbeLoader() {
            super("proxyra-drivermanager-probe", ClassLoader.getPlatformClassLoader());
        }

        Class<?> loadProbe() throws java.io.IOException {
            try (java.io.InputStream in = UcpRuntime.class.getResourceAsStream("DriverManagerProbe.class")) {
                byte[] bytes = java.util.Objects.requireNonNull(in, "DriverManagerProbe.class").readAllBytes();
                return defineClass(DriverManagerProbe.class.getName(), bytes, 0, bytes.length);
            }
        }
    }

    private static boolean isApplicationLoaderOrParent(ClassLoader loader) {
        for (ClassLoader l = ClassLoader.getSystemClassLoader(); l != null; l = l.getParent()) {
            if (l == loader) {
                return true;
            }
        }
        return loader == null; // the bootstrap loader
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
                throw new SQLException("proxyra: UCP is missing from the adapter's class path",
                        SqlState.UNABLE_TO_CONNECT, e);
            } finally {
                if (before == null) {
                    System.clearProperty(SHUTDOWN_HOOK_PROPERTY);
                } else {
                    System.setProperty(SHUTDOWN_HOOK_PROPERTY, before);
                }
            }
            preloadClassesOfStop();
            ucpInitialised = true;
        }
        // pgjdbc registers its driver when the class initialises; proxyra does not need it there
        if (resourceAdapterInUse) {
            deregisterOwnPostgresDriver();
        }
    }

    /**
     * Only the adapter's own copy of pgjdbc: a server that has pgjdbc in a parent class loader (a common library,
     * Payara Micro's --addlibs, a WildFly module) lends the adapter its classes, and its DriverManager registration
     * is what the server's own pools connect through.
     */
    private static void deregisterOwnPostgresDriver() throws SQLException {
        if (org.postgresql.Driver.class.getClassLoader() == ADAPTER && org.postgresql.Driver.isRegistered()) {
            org.postgresql.Driver.deregister();
        }
    }

    /**
     * The classes UCP first needs when its last pool stops. A server may remove the adapter's jars before it stops the
     * adapter (Open Liberty deletes its extracted copy at times), and a class that cannot be read then leaves the pool
     * and its physical connections open. {@code StopLoadsNoClassTest} names any that a newer UCP adds.
     */
    private static final java.util.List<String> CLASSES_OF_STOP = java.util.List.of(
            "oracle.ucp.util.Predicates", "oracle.ucp.admin.UniversalConnectionPoolManagerMBeanImpl$4");

    private static void preloadClassesOfStop() {
        for (String name : CLASSES_OF_STOP) {
            try {
                Class.forName(name, false, ADAPTER);
            } catch (ClassNotFoundException | LinkageError e) {
                LOG.log(Level.FINE, "proxyra: loading " + name + " before it is needed to stop a pool", e);
            }
        }
    }

    private static void stop() {
        oracle.ucp.admin.UniversalConnectionPoolManagerBase.stopExecutionEnvironment();
    }

    /**
     * The resource adapter stopped: with no pool left in this loader, removes what the drivers and UCP
     * registered globally.
     */
    static synchronized void release() {
        try {
            if (openPools == 0) {
                resourceAdapterInUse = false;
                deregisterDrivers();
                awaitOwnThreads();
                unregisterMBeans();
                // the drivers' message bundles: the JDK keeps them softly, i.e. until memory runs short
                java.util.ResourceBundle.clearCache(ADAPTER);
                java.beans.Introspector.flushCaches(); // what else UCP introspected on this thread group (Tomcat does the same)
            }
        } finally {
            leaveAdapterLoader();
        }
    }

    /**
     * The thread that stops the adapter may be a server's pooled thread that got the adapter's loader as its context
     * loader and outlives the adapter: Payara Server stops adapters on a cached pool of "RA Shutdown" threads, each
     * created by the undeploying thread (whose context loader is then the adapter's) and so inheriting it, then kept
     * while undeploys come less than 60 s apart. That idle thread would keep the undeployed adapter's loader, and
     * every class it loaded, reachable. The loader ends with the adapter, so the thread gets the loader's parent,
     * which outlives it. A thread with any other context loader is left as it is, and so is every thread when the
     * adapter's classes are the application's own (loaded by the JVM's application class loader).
     */
    private static void leaveAdapterLoader() {
        Thread thread = Thread.currentThread();
        if (!isApplicationLoaderOrParent(ADAPTER) && thread.getContextClassLoader() == ADAPTER) {
            thread.setContextClassLoader(ADAPTER.getParent());
        }
    }

    /**
     * Without DriverManager.getDrivers(): called from here it would load and initialise the adapter's copy of every
     * driver anyone else registered. pgjdbc's driver deregisters itself; ojdbc's is its registered default
     * instance, whose DriverAction stops ojdbc's own threads. ojdbc's class is initialised first if it was not:
     * lookups elsewhere (UCP's, the server's) can register it behind the adapter's back, and only initialising
     * it tells for sure.
     */
    private static void deregisterDrivers() {
        if (!OWNS_BUNDLED_DRIVERS) {
            return;
        }
        deregisterOracleDriver();
        // last: initialising ojdbc can make DriverManager initialise pgjdbc's driver, which registers itself
        try {
            deregisterOwnPostgresDriver();
        } catch (SQLException e) {
            LOG.log(Level.FINE, "proxyra: deregistering the PostgreSQL driver", e);
        }
    }

    private static void deregisterOracleDriver() {
        try {
            Class<?> oracle = Class.forName("oracle.jdbc.driver.OracleDriver", false, ADAPTER);
            if (oracle.getClassLoader() != ADAPTER) {
                return; // the server's ojdbc, lent to the adapter: its registration is the server's
            }
            Class.forName(oracle.getName(), true, ADAPTER);
            java.lang.reflect.Field instance = oracle.getDeclaredField("defaultDriver");
            instance.setAccessible(true);
            Object driver = instance.get(null);
            if (driver instanceof Driver registered) {
                DriverManager.deregisterDriver(registered);
            }
        } catch (ReflectiveOperationException | SQLException | RuntimeException | LinkageError e) {
            LOG.log(Level.FINE, "proxyra: deregistering the Oracle driver", e);
        }
    }

    /**
     * Live threads that UCP or ojdbc started for this loader: of this loader's classes, or named as theirs and with
     * this loader as their context loader.
     */
    private static java.util.List<Thread> ownThreads() {
        Thread self = Thread.currentThread();
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t != self && (t.getClass().getClassLoader() == ADAPTER
                        || (t.getContextClassLoader() == ADAPTER && isDriverOrPoolThread(t.getName()))))
                .toList();
    }

    private static boolean isDriverOrPoolThread(String name) {
        String n = name.toLowerCase(java.util.Locale.ROOT);
        return n.contains("ucp") || n.startsWith("oracle") || n.equals("interrupttimer");
    }

    /**
     * UCP's and ojdbc's threads end asynchronously after being told to: waits for them (at most 10 s), so that
     * the adapter has let go of everything when stop() returns.
     */
    private static void awaitOwnThreads() {
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(10);
        for (Thread t : ownThreads()) {
            long left = java.util.concurrent.TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
            try {
                t.join(Math.max(1, left));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            if (t.isAlive()) {
                LOG.warning("proxyra: thread '" + t.getName() + "' of the adapter's class loader did not end within"
                        + " 10 s of stopping; it keeps the adapter's classes loaded while it runs");
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
