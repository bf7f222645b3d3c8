package dev.proxyra.testing;

import java.util.function.Consumer;

import dev.proxyra.jdbc.ProxyraDataSource;
import dev.proxyra.spi.ProxyraManagedConnectionFactory;

/**
 * A non-managed proxyra DataSource on the embedded database with {@link TestCallers} set to one caller (null: a
 * request without one), for a test's set-up; closing it clears the caller and closes the pool.
 */
public record CallerDataSource(ProxyraManagedConnectionFactory mcf, ProxyraDataSource ds) implements AutoCloseable {

    /** {@code settings} adjusts the factory of {@link Factories#on} before its DataSource is made. */
    public static CallerDataSource open(Database db, String caller,
                                        Consumer<ProxyraManagedConnectionFactory> settings) {
        ProxyraManagedConnectionFactory mcf = Factories.on(db).build();
        settings.accept(mcf);
        TestCallers.set(caller);
        return new CallerDataSource(mcf, Factories.dataSource(mcf));
    }

    @Override
    public void close() {
        TestCallers.set(null);
        mcf.close();
    }
}
