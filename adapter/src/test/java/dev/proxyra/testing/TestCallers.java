package dev.proxyra.testing;

import java.util.concurrent.Callable;

import dev.proxyra.identity.CallerSource;

/**
 * A CallerSource for tests outside a server: the caller is whatever the current thread set, like a
 * web framework's request-scoped user (the seed's {@code user_source}).
 */
public final class TestCallers implements CallerSource {
    private static final ThreadLocal<String> CALLER = new ThreadLocal<>();

    @Override
    public String currentCaller() {
        return CALLER.get();
    }

    public static <T> T as(String caller, Callable<T> work) throws Exception {
        String previous = CALLER.get();
        CALLER.set(caller);
        try {
            return work.call();
        } finally {
            if (previous == null) {
                CALLER.remove();
            } else {
                CALLER.set(previous);
            }
        }
    }

    public static void set(String caller) {
        if (caller == null) {
            CALLER.remove();
        } else {
            CALLER.set(caller);
        }
    }
}
