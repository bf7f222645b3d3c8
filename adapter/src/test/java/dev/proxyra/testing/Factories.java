package dev.proxyra.testing;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

import jakarta.resource.spi.ResourceAdapter;

import dev.proxyra.config.ExternalConfig;
import dev.proxyra.jdbc.ProxyraDataSource;
import dev.proxyra.spi.ProxyraManagedConnectionFactory;
import dev.proxyra.testing.fakepg.FakePgDataSource;
import dev.proxyra.testing.fakepg.FakePgServer;
import oracle.jdbcfake.FakeOracleDataSource;

/**
 * Builds the managed connection factories the tests use: {@code Factories.on(db).maxPoolSize(1).build()}. Every
 * factory ignores external configuration and takes its callers from {@link TestCallers}; the starting points set the
 * account and what else they say, the options are the factory's bean setters by their property names.
 */
public final class Factories {
    private final List<Consumer<ProxyraManagedConnectionFactory>> settings = new ArrayList<>();

    private Factories(String url, String user, String password) {
        set(mcf -> {
            mcf.setExternalConfig(ExternalConfig.NONE);
            mcf.setURL(url);
            mcf.setUser(user);
            mcf.setPassword(password);
            mcf.setCallerSource(TestCallers.class.getName());
        });
    }

    /** The seeded proxy account on {@code db}, with a pool of at most 8 sessions and a 5 s wait. */
    public static Factories on(Database db) {
        return onUrl(db.url()).maxPoolSize(8).waitTimeout(5);
    }

    /** The seeded proxy account on a PostgreSQL at {@code url}; the pool's sizes and timeouts as the adapter's defaults. */
    public static Factories onUrl(String url) {
        return new Factories(url, Database.PROXY_USER, Database.PROXY_PASSWORD);
    }

    /** The account {@code user} on the database at {@code url}; the pool's sizes and timeouts as the adapter's defaults. */
    public static Factories onUrl(String url, String user, String password) {
        return new Factories(url, user, password);
    }

    /** The in-memory PostgreSQL-like {@code server}'s proxy role, through its data source. */
    public static Factories onFakePg(FakePgServer server) {
        return new Factories(server.url(), server.proxyRole(), "not-a-secret")
                .connectionFactoryClassName(FakePgDataSource.class.getName());
    }

    /** An Oracle URL served by the in-memory Oracle fake ({@link FakeOracleDataSource}) through UCP. */
    public static Factories onFakeOracle() {
        return onFakeOracle(FakeOracleDataSource.class.getName());
    }

    /** As {@link #onFakeOracle()} with another fake factory class, whose name decides which of UCP's pools serves it. */
    public static Factories onFakeOracle(String factoryClassName) {
        return new Factories("jdbc:oracle:thin:@//db.invalid:1521/ERP", "PROXY_USER", "proxy-password")
                .connectionFactoryClassName(factoryClassName);
    }

    /** The non-managed data source of {@code mcf}. */
    public static ProxyraDataSource dataSource(ProxyraManagedConnectionFactory mcf) {
        return (ProxyraDataSource) mcf.createConnectionFactory();
    }

    public Factories maxPoolSize(int size) {
        return set(mcf -> mcf.setMaxPoolSize(size));
    }

    public Factories minPoolSize(int size) {
        return set(mcf -> mcf.setMinPoolSize(size));
    }

    /** ConnectionWaitTimeout, in seconds. */
    public Factories waitTimeout(int seconds) {
        return set(mcf -> mcf.setConnectionWaitTimeout(seconds));
    }

    /** NetworkTimeout, in seconds. */
    public Factories networkTimeout(int seconds) {
        return set(mcf -> mcf.setNetworkTimeout(seconds));
    }

    public Factories roleSwitch(String mode) {
        return set(mcf -> mcf.setRoleSwitch(mode));
    }

    public Factories identityCheck(String mode) {
        return set(mcf -> mcf.setIdentityCheck(mode));
    }

    public Factories unauthenticatedAccess(String mode) {
        return set(mcf -> mcf.setUnauthenticatedAccess(mode));
    }

    public Factories callerSource(String className) {
        return set(mcf -> mcf.setCallerSource(className));
    }

    public Factories poolName(String name) {
        return set(mcf -> mcf.setPoolName(name));
    }

    public Factories validateOnBorrow(String flag) {
        return set(mcf -> mcf.setValidateConnectionOnBorrow(flag));
    }

    public Factories connectionFactoryClassName(String className) {
        return set(mcf -> mcf.setConnectionFactoryClassName(className));
    }

    public Factories user(String user) {
        return set(mcf -> mcf.setUser(user));
    }

    public Factories password(String password) {
        return set(mcf -> mcf.setPassword(password));
    }

    public Factories resourceAdapter(ResourceAdapter adapter) {
        return set(mcf -> mcf.setResourceAdapter(adapter));
    }

    /**
     * Any configuration property by its name in ra.xml, through its bean setter ({@code property("RoleMap", "...")});
     * an Integer property takes the value's decimal form.
     */
    public Factories property(String name, String value) {
        return set(mcf -> {
            Method setter = setter(name);
            try {
                setter.invoke(mcf, setter.getParameterTypes()[0] == Integer.class ? Integer.valueOf(value) : value);
            } catch (IllegalAccessException e) {
                throw new IllegalStateException(e);
            } catch (InvocationTargetException e) {
                throw new IllegalArgumentException(name + " = " + value + " was refused", e.getCause());
            }
        });
    }

    private static Method setter(String name) {
        for (Class<?> type : new Class<?>[] {String.class, Integer.class}) {
            try {
                return ProxyraManagedConnectionFactory.class.getMethod("set" + name, type);
            } catch (NoSuchMethodException notThisType) {
                // try the next
            }
        }
        throw new IllegalArgumentException("no configuration property " + name);
    }

    /** Anything else, on the factory itself. */
    public Factories set(Consumer<ProxyraManagedConnectionFactory> setting) {
        settings.add(setting);
        return this;
    }

    /** A new factory with every option applied in the order given. */
    public ProxyraManagedConnectionFactory build() {
        ProxyraManagedConnectionFactory mcf = new ProxyraManagedConnectionFactory();
        settings.forEach(s -> s.accept(mcf));
        return mcf;
    }

    /** The non-managed data source of a new factory. */
    public ProxyraDataSource dataSource() {
        return dataSource(build());
    }
}
