package dev.proxyra.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;

import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.proxyra.spi.ProxyraManagedConnectionFactory;

/** MicroProfile Config (SmallRye here) fills what a pool leaves unset, from the server's sources only. */
class MicroProfileConfigTest {

    /**
     * The attack: an application ships META-INF/microprofile-config.properties naming proxyra's keys, and its thread is
     * the one that opens the pool. The pool must not take them.
     */
    @Test
    void anApplicationsOwnConfigurationDoesNotReachThePool(@TempDir Path dir) throws Exception {
        Files.createDirectories(dir.resolve("META-INF"));
        Files.writeString(dir.resolve("META-INF/microprofile-config.properties"),
                "proxyra.UnauthenticatedAccess=PROXY_USER\nproxyra.AllowExplicitUser=true\nproxyra.MaxPoolSize=99\n");
        Thread thread = Thread.currentThread();
        ClassLoader before = thread.getContextClassLoader();
        try (URLClassLoader application = new URLClassLoader(new URL[] {dir.toUri().toURL()}, before)) {
            thread.setContextClassLoader(application);
            // the application's own configuration does say so
            assertThat(ConfigProvider.getConfig().getOptionalValue("proxyra.UnauthenticatedAccess", String.class))
                    .contains("PROXY_USER");
            ProxyraConfig config = factory().config();
            assertThat(config.unauthenticatedAccess()).isEqualTo(ProxyraConfig.UnauthenticatedAccess.DENY);
            assertThat(config.allowExplicitUser()).isFalse();
            assertThat(config.maxPoolSize()).isEqualTo(10);
        } finally {
            thread.setContextClassLoader(before);
        }
    }

    @Test
    void theServersSourcesStillFillWhatThePoolLeavesUnset() {
        System.setProperty("proxyra.MaxPoolSize", "7");
        try {
            assertThat(factory().config().maxPoolSize()).isEqualTo(7);
        } finally {
            System.clearProperty("proxyra.MaxPoolSize");
        }
    }

    private static ProxyraManagedConnectionFactory factory() {
        ProxyraManagedConnectionFactory mcf = new ProxyraManagedConnectionFactory();
        mcf.setURL("jdbc:postgresql://127.0.0.1:5432/erp");
        mcf.setUser("app_proxy");
        return mcf;
    }
}
