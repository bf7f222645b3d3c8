package dev.proxyra.testing;

import java.util.concurrent.Callable;

import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * One resource of a kind per test run: started on first use, closed by JUnit when the run ends (it closes root-store
 * resources), so a run leaves no server behind.
 */
final class RunScoped {
    private RunScoped() {
    }

    static <T extends AutoCloseable> T get(ExtensionContext context, Class<T> type, Callable<T> start, String what) {
        return type.cast(context.getRoot().getStore(ExtensionContext.Namespace.GLOBAL)
                .getOrComputeIfAbsent(type, k -> new Holder(start, what), Holder.class).resource);
    }

    @SuppressWarnings("deprecation")
    private static final class Holder implements ExtensionContext.Store.CloseableResource, AutoCloseable {
        final AutoCloseable resource;

        Holder(Callable<? extends AutoCloseable> start, String what) {
            try {
                resource = start.call();
            } catch (Exception e) {
                throw new IllegalStateException(what + " did not start", e);
            }
        }

        @Override
        public void close() throws Exception {
            resource.close();
        }
    }
}
