package dev.proxyra.spi;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.ref.WeakReference;
import java.net.URL;
import java.net.URLClassLoader;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.UnaryOperator;

import javax.sql.DataSource;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import dev.proxyra.testing.Collected;
import dev.proxyra.testing.Database;
import dev.proxyra.testing.PostgresExtension;

/**
 * Deploy, use, undeploy in a loop, as a server does with a rar and an application, outside a server: the
 * adapter (with UCP and the drivers) in its own class loader, an application in a child loader that
 * supplies the CallerSource and is the thread's context loader while it calls. After each stop() both loaders
 * must be collectable: no thread, shutdown hook, ClassValue, DriverManager entry, MBean or cache may keep
 * either reachable.
 */
@ExtendWith(PostgresExtension.class)
class RedeployLeakTest {
    private static final int CYCLES = 3;

    @Test
    void afterStopNeitherTheAdaptersNorTheApplicationsLoaderStaysReachable(Database db) throws Exception {
        List<WeakReference<ClassLoader>> adapters = new ArrayList<>();
        List<WeakReference<ClassLoader>> applications = new ArrayList<>();
        for (int cycle = 0; cycle < CYCLES; cycle++) {
            deployUseUndeploy(db, adapters, applications, false, null, null, new ArrayList<>());
        }
        for (int i = 0; i < CYCLES; i++) {
            assertThat(Collected.eventually(adapters.get(i))).as("the adapter's class loader of cycle %d", i).isTrue();
            assertThat(Collected.eventually(applications.get(i))).as("the application's class loader of cycle %d", i)
                    .isTrue();
        }
        assertThat(db.proxySessionsGone(java.time.Duration.ofSeconds(30))).as("no proxy session left").isTrue();
    }

    /**
     * The attack on the server's own pools: the server has pgjdbc in a common library (Payara Micro's --addlibs,
     * asadmin add-library, a WildFly module), which it lends the adapter. Its DriverManager registration is what the
     * server's pools (pgjdbc's DataSources connect through DriverManager) need; proxyra must leave it alone, while
     * it uses and after it stops.
     */
    @Test
    void aDriverTheServerLendsTheAdapterStaysRegistered(Database db) throws Exception {
        deployUseUndeploy(db, new ArrayList<>(), new ArrayList<>(), true, null, null, new ArrayList<>());
        assertThat(db.proxySessionsGone(java.time.Duration.ofSeconds(30))).as("no proxy session left").isTrue();
    }

    /**
     * A server may stop the adapter on a pooled thread that has the adapter's loader as its context loader and keeps
     * living afterwards (Payara Server's "RA Shutdown" threads): once stop() returned, that idle thread must hold
     * neither the adapter's loader nor anything that keeps it.
     */
    @Test
    void aPooledServerThreadThatStopsTheAdapterUnderItsLoaderDoesNotKeepIt(Database db) throws Exception {
        ExecutorService raShutdown = Executors.newSingleThreadExecutor(r -> new Thread(r, "RA Shutdown"));
        try {
            List<WeakReference<ClassLoader>> adapters = new ArrayList<>();
            List<ClassLoader> afterStop = new ArrayList<>();
            deployUseUndeploy(db, adapters, new ArrayList<>(), false, raShutdown, adapter -> adapter, afterStop);
            assertThat(afterStop.get(0)).as("the stopping thread's context loader after stop()")
                    .isSameAs(afterStop.get(1));
            afterStop.clear();
            assertThat(Collected.eventually(adapters.get(0))).as("the adapter's loader, its stopping thread alive")
                    .isTrue();
        } finally {
            raShutdown.shutdownNow();
        }
    }

    /** The other side: a stopping thread whose context loader is not the adapter's keeps the loader it had. */
    @Test
    void aThreadThatStopsTheAdapterUnderAnotherLoaderKeepsThatLoader(Database db) throws Exception {
        ExecutorService stopper = Executors.newSingleThreadExecutor();
        try (URLClassLoader unrelated = new URLClassLoader("unrelated", new URL[0], null)) {
            List<ClassLoader> afterStop = new ArrayList<>();
            deployUseUndeploy(db, new ArrayList<>(), new ArrayList<>(), false, stopper, adapter -> unrelated, afterStop);
            assertThat(afterStop.get(0)).as("the stopping thread's context loader after stop()").isSameAs(unrelated);
        } finally {
            stopper.shutdownNow();
        }
    }

    /**
     * An application redeployed while the adapter keeps running (a war undeployed and deployed again, the rar left
     * alone): the request that opened the pool, and so made UCP start its threads, was the application's, and
     * once the application is gone its class loader must be collectable, though the adapter and its pool live on.
     */
    @Test
    void anApplicationWhoseRequestOpenedThePoolIsCollectableWhileTheAdapterRuns(Database db) throws Exception {
        URLClassLoader[] loaders = serverAndAdapter(false);
        URLClassLoader adapter = loaders[1];
        Object ra = adapter.loadClass(ProxyraResourceAdapter.class.getName()).getConstructor().newInstance();
        Class<?> bootstrap = adapter.loadClass("jakarta.resource.spi.BootstrapContext");
        ra.getClass().getMethod("start", bootstrap).invoke(ra, (Object) null);
        try {
            Object mcf = adapter.loadClass(ProxyraManagedConnectionFactory.class.getName()).getConstructor().newInstance();
            set(mcf, "setURL", db.url());
            set(mcf, "setUser", Database.PROXY_USER);
            set(mcf, "setPassword", Database.PROXY_PASSWORD);
            set(mcf, "setCallerSource", dev.proxyra.testing.TestCallers.class.getName());
            mcf.getClass().getMethod("setResourceAdapter", adapter.loadClass("jakarta.resource.spi.ResourceAdapter"))
                    .invoke(mcf, ra);
            DataSource ds = (DataSource) mcf.getClass().getMethod("createConnectionFactory").invoke(mcf);

            WeakReference<ClassLoader> first = requestFromANewApplication(ds, "alice");
            assertThat(Collected.eventually(first)).as("the undeployed application's loader, the adapter running")
                    .isTrue();
            // the pool the first application's request opened still serves the next application
            requestFromANewApplication(ds, "bob");
        } finally {
            ra.getClass().getMethod("stop").invoke(ra);
            adapter.close();
            loaders[0].close();
        }
    }

    /**
     * Deploys an application, serves one request of {@code caller} from the application's own code on a thread
     * whose context loader is the application's (as a server does), undeploys it; returns its loader.
     */
    @SuppressWarnings("unchecked")
    private static WeakReference<ClassLoader> requestFromANewApplication(DataSource ds, String caller)
            throws Exception {
        URLClassLoader application = new URLClassLoader("demo.war", jars(ApplicationRequest.class), ds.getClass()
                .getClassLoader());
        Class<?> request = application.loadClass(ApplicationRequest.class.getName());
        assertThat(request.getClassLoader()).isSameAs(application);
        Thread thread = Thread.currentThread();
        ClassLoader before = thread.getContextClassLoader();
        thread.setContextClassLoader(application);
        try {
            String databaseUser = ((java.util.function.BiFunction<DataSource, String, String>) request
                    .getConstructor().newInstance()).apply(ds, caller);
            assertThat(databaseUser).isEqualTo(caller);
        } finally {
            thread.setContextClassLoader(before);
        }
        application.close();
        return new WeakReference<>(application);
    }

    /** The application's code: one request of a caller, answered with the database user it ran as. */
    public static final class ApplicationRequest implements java.util.function.BiFunction<DataSource, String, String> {
        @Override
        public String apply(DataSource ds, String caller) {
            dev.proxyra.testing.TestCallers.set(caller);
            try (Connection c = ds.getConnection(); Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("select current_user")) {
                rs.next();
                return rs.getString(1);
            } catch (SQLException e) {
                throw new IllegalStateException(e);
            } finally {
                dev.proxyra.testing.TestCallers.set(null);
            }
        }
    }

    private static void deployUseUndeploy(Database db, List<WeakReference<ClassLoader>> adapters,
                                          List<WeakReference<ClassLoader>> applications, boolean serverLendsPgjdbc,
                                          ExecutorService stopper, UnaryOperator<ClassLoader> stopperContext,
                                          List<ClassLoader> afterStop) throws Exception {
        URLClassLoader[] loaders = serverAndAdapter(serverLendsPgjdbc);
        URLClassLoader server = loaders[0];
        URLClassLoader adapter = loaders[1];
        java.lang.reflect.Method serversDriverRegistered = serverLendsPgjdbc
                ? Class.forName("org.postgresql.Driver", true, server).getMethod("isRegistered") : null;
        URLClassLoader application = new URLClassLoader("demo.war", jars(dev.proxyra.testing.TestCallers.class), adapter);
        adapters.add(new WeakReference<>(adapter));
        applications.add(new WeakReference<>(application));

        Object ra = adapter.loadClass(ProxyraResourceAdapter.class.getName()).getConstructor().newInstance();
        Class<?> raType = ra.getClass();
        Class<?> bootstrap = adapter.loadClass("jakarta.resource.spi.BootstrapContext");
        raType.getMethod("start", bootstrap).invoke(ra, (Object) null);
        Object mcf = adapter.loadClass(ProxyraManagedConnectionFactory.class.getName()).getConstructor().newInstance();
        set(mcf, "setURL", db.url());
        set(mcf, "setUser", Database.PROXY_USER);
        set(mcf, "setPassword", Database.PROXY_PASSWORD);
        set(mcf, "setCallerSource", dev.proxyra.testing.TestCallers.class.getName());
        mcf.getClass().getMethod("setResourceAdapter", adapter.loadClass("jakarta.resource.spi.ResourceAdapter"))
                .invoke(mcf, ra);
        DataSource ds = (DataSource) mcf.getClass().getMethod("createConnectionFactory").invoke(mcf);

        Class<?> callers = application.loadClass(dev.proxyra.testing.TestCallers.class.getName());
        assertThat(callers.getClassLoader()).isSameAs(application);
        Thread thread = Thread.currentThread();
        ClassLoader before = thread.getContextClassLoader();
        thread.setContextClassLoader(application); // as a server does around an application's request
        try {
            for (String caller : new String[] {"alice", "bob", "alice", "carol"}) {
                callers.getMethod("set", String.class).invoke(null, caller);
                try (Connection c = ds.getConnection(); Statement s = c.createStatement();
                     ResultSet rs = s.executeQuery("select current_user")) {
                    rs.next();
                    assertThat(rs.getString(1)).isEqualTo(caller);
                } catch (SQLException refused) {
                    assertThat(caller).isEqualTo("carol");
                }
            }
            if (serverLendsPgjdbc) {
                assertThat(serversDriverRegistered.invoke(null)).as("the server's pgjdbc, while proxyra runs").isEqualTo(true);
            }
        } finally {
            callers.getMethod("set", String.class).invoke(null, (Object) null);
            thread.setContextClassLoader(before);
        }
        if (stopper == null) {
            raType.getMethod("stop").invoke(ra);
        } else {
            // a server's own thread: given its context loader before it calls stop(), and left alive afterwards
            stopper.submit(() -> {
                Thread own = Thread.currentThread();
                own.setContextClassLoader(stopperContext.apply(adapter));
                raType.getMethod("stop").invoke(ra);
                afterStop.add(own.getContextClassLoader());
                afterStop.add(server); // what a thread may keep: the loader that outlives the adapter's
                return null;
            }).get();
        }
        if (serverLendsPgjdbc) {
            assertThat(serversDriverRegistered.invoke(null)).as("the server's pgjdbc, after proxyra stopped").isEqualTo(true);
            Class.forName("org.postgresql.Driver", true, server).getMethod("deregister").invoke(null);
        }
        application.close();
        adapter.close();
        server.close();
    }

    /** The server's libraries in one loader, proxyra.rar (with UCP and the drivers) in a child of it. */
    private static URLClassLoader[] serverAndAdapter(boolean serverLendsPgjdbc) {
        List<Class<?>> serverLibraries = new ArrayList<>(List.of(jakarta.resource.spi.ResourceAdapter.class,
                jakarta.security.enterprise.SecurityContext.class, jakarta.enterprise.inject.spi.CDI.class,
                jakarta.security.jacc.PolicyContext.class, jakarta.inject.Inject.class,
                jakarta.transaction.Transaction.class, jakarta.interceptor.Interceptor.class,
                jakarta.el.ELContext.class, jakarta.annotation.Priority.class, jakarta.servlet.http.HttpServletRequest.class,
                jakarta.security.auth.message.AuthException.class));
        List<Class<?>> rarLibraries = new ArrayList<>(List.of(ProxyraResourceAdapter.class,
                oracle.ucp.jdbc.PoolDataSource.class, oracle.jdbc.OracleConnection.class,
                oracle.ons.ONS.class, oracle.simplefan.FanManager.class, org.HdrHistogram.Histogram.class));
        (serverLendsPgjdbc ? serverLibraries : rarLibraries).add(org.postgresql.Driver.class);
        URLClassLoader server = new URLClassLoader("server", jars(serverLibraries.toArray(new Class<?>[0])),
                ClassLoader.getPlatformClassLoader());
        return new URLClassLoader[] {server,
                new URLClassLoader("proxyra.rar", jars(rarLibraries.toArray(new Class<?>[0])), server)};
    }

    private static URL[] jars(Class<?>... classes) {
        Set<URL> urls = new LinkedHashSet<>();
        for (Class<?> c : classes) {
            urls.add(c.getProtectionDomain().getCodeSource().getLocation());
        }
        return urls.toArray(new URL[0]);
    }

    private static void set(Object bean, String setter, String value) throws ReflectiveOperationException {
        bean.getClass().getMethod(setter, String.class).invoke(bean, value);
    }
}
