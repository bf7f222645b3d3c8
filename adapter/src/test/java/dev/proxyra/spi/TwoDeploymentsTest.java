package dev.proxyra.spi;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

import javax.sql.DataSource;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import dev.proxyra.testing.Database;
import dev.proxyra.testing.PostgresExtension;

/**
 * Two deployed copies of proxyra.rar in one server: each has its own class loader for the adapter, while the
 * server may share UCP (and always shares the JVM's MBean server). Both must pool side by side.
 */
@ExtendWith(PostgresExtension.class)
class TwoDeploymentsTest {

    /** Loads the adapter's own classes itself (as a server does per deployed archive), everything else from the parent. */
    private static final class DeploymentLoader extends URLClassLoader {
        DeploymentLoader(String name, URL adapterClasses) {
            super(name, new URL[] {adapterClasses}, TwoDeploymentsTest.class.getClassLoader());
        }

        @Override
        protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
            synchronized (getClassLoadingLock(name)) {
                Class<?> loaded = findLoadedClass(name);
                if (loaded == null && name.startsWith("dev.proxyra.")) {
                    try {
                        loaded = findClass(name);
                    } catch (ClassNotFoundException notTheAdapters) {
                        loaded = null;
                    }
                }
                if (loaded == null) {
                    return super.loadClass(name, resolve);
                }
                if (resolve) {
                    resolveClass(loaded);
                }
                return loaded;
            }
        }
    }

    @Test
    void twoCopiesOfTheAdapterPoolSideBySide(Database db) throws Exception {
        URL adapterClasses = ProxyraManagedConnectionFactory.class.getProtectionDomain().getCodeSource().getLocation();
        List<Object> factories = new ArrayList<>();
        List<URLClassLoader> loaders = new ArrayList<>();
        try {
            for (String deployment : new String[] {"first-proxyra-rar", "second-proxyra-rar"}) {
                URLClassLoader loader = new DeploymentLoader(deployment, adapterClasses);
                loaders.add(loader);
                Class<?> mcfType = loader.loadClass(ProxyraManagedConnectionFactory.class.getName());
                assertThat(mcfType).isNotSameAs(ProxyraManagedConnectionFactory.class);
                Object mcf = mcfType.getConstructor().newInstance();
                factories.add(mcf);
                Class<?> external = loader.loadClass("dev.proxyra.config.ExternalConfig");
                mcfType.getMethod("setExternalConfig", external).invoke(mcf, external.getField("NONE").get(null));
                set(mcf, "setURL", db.url());
                set(mcf, "setUser", Database.PROXY_USER);
                set(mcf, "setPassword", Database.PROXY_PASSWORD);
                set(mcf, "setUnauthenticatedAccess", "PROXY_USER");

                DataSource dataSource = (DataSource) mcfType.getMethod("createConnectionFactory").invoke(mcf);
                try (Connection c = dataSource.getConnection(); Statement s = c.createStatement();
                     ResultSet rs = s.executeQuery("select current_user")) {
                    rs.next();
                    assertThat(rs.getString(1)).as(deployment).isEqualTo(Database.PROXY_USER);
                }
            }
            assertThat(db.proxySessions()).isEqualTo(2);
        } finally {
            for (Object mcf : factories) {
                mcf.getClass().getMethod("close").invoke(mcf);
            }
            for (URLClassLoader loader : loaders) {
                loader.close();
            }
        }
        assertThat(db.proxySessionsGone(java.time.Duration.ofSeconds(30))).as("no proxy session left").isTrue();
    }

    private static void set(Object bean, String setter, String value) throws ReflectiveOperationException {
        Method m = bean.getClass().getMethod(setter, String.class);
        m.invoke(bean, value);
    }
}
