package dev.proxyra.testing;

import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * Gives tests one {@link RestartableDatabase} per test run, separate from {@link PostgresExtension}'s
 * server: started on first use, stopped and deleted when the run ends. A test that stops it must start
 * it again before it returns.
 */
public final class RestartableDatabaseExtension implements ParameterResolver {

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        return parameter.getParameter().getType() == RestartableDatabase.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        RestartableDatabase db = context.getRoot().getStore(ExtensionContext.Namespace.GLOBAL)
                .getOrComputeIfAbsent(Holder.class, k -> new Holder(), Holder.class).db;
        if (!db.isRunning()) {
            throw new IllegalStateException("the reliability database was left stopped by an earlier test");
        }
        return db;
    }

    /** Closed by JUnit at the end of the run. */
    @SuppressWarnings("deprecation")
    private static final class Holder implements ExtensionContext.Store.CloseableResource, AutoCloseable {
        final RestartableDatabase db;

        Holder() {
            try {
                db = RestartableDatabase.create();
            } catch (Exception e) {
                throw new IllegalStateException("the reliability PostgreSQL did not start", e);
            }
        }

        @Override
        public void close() throws Exception {
            db.close();
        }
    }
}
