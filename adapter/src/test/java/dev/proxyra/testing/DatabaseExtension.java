package dev.proxyra.testing;

import java.util.concurrent.Callable;

import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * Gives tests one {@link Database} of a kind per test run, injected as a parameter: started on first use, closed by
 * JUnit when the run ends (it closes root-store resources), so a run leaves no server behind. Each subclass is its
 * own kind, with its own server. A test that stops a restartable one must start it again before it returns.
 */
public abstract class DatabaseExtension implements ParameterResolver {
    private final Callable<Database> start;
    private final String what;

    protected DatabaseExtension(Callable<Database> start, String what) {
        this.start = start;
        this.what = what;
    }

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        return parameter.getParameter().getType() == Database.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        Database db = context.getRoot().getStore(ExtensionContext.Namespace.GLOBAL)
                .getOrComputeIfAbsent(getClass(), k -> new Holder(start, what), Holder.class).db;
        if (!db.isRunning()) {
            throw new IllegalStateException(what + " was left stopped by an earlier test");
        }
        return db;
    }

    @SuppressWarnings("deprecation")
    private static final class Holder implements ExtensionContext.Store.CloseableResource, AutoCloseable {
        final Database db;

        Holder(Callable<Database> start, String what) {
            try {
                db = start.call();
            } catch (Exception e) {
                throw new IllegalStateException(what + " did not start", e);
            }
        }

        @Override
        public void close() throws Exception {
            db.close();
        }
    }
}
