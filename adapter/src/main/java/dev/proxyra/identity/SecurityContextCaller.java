package dev.proxyra.identity;

import java.security.Principal;
import java.util.List;

import jakarta.enterprise.inject.spi.CDI;
import jakarta.security.enterprise.SecurityContext;

/** Jakarta Security's caller, looked up through CDI on the calling thread. */
final class SecurityContextCaller implements CallerLookup {

    @Override
    public String description() {
        return "Jakarta Security SecurityContext";
    }

    /**
     * SecurityContext per application class loader. It is stateless (it reads the caller of the current
     * request), and applications inject one instance into application-scoped beans, so one per application
     * serves every request; looking it up through CDI.current() on each connection request was a third of
     * proxyra's CPU in a request on Payara (a stack walk and class-loader lookups to find the BeanManager).
     */
    private static final PerClassLoader<SecurityContext, RuntimeException> CONTEXTS =
            new PerClassLoader<>(loader -> lookUp());

    /** The calling thread's SecurityContext, or null when there is no CDI container here. */
    private static SecurityContext context() {
        ClassLoader tccl = Thread.currentThread().getContextClassLoader();
        return tccl == null ? lookUp() : CONTEXTS.get(tccl);
    }

    private static SecurityContext lookUp() {
        try {
            var instance = CDI.current().select(SecurityContext.class);
            return instance.isResolvable() ? instance.get() : null;
        } catch (RuntimeException | LinkageError e) {
            // No CDI container on this thread (non-managed use, a thread the server did not start).
            return null;
        }
    }

    @Override
    public List<String> groups() {
        SecurityContext context = context();
        return context == null ? List.of() : CallerLookup.groupNames(context.getPrincipalsByType(Principal.class));
    }

    @Override
    public boolean anonymous() {
        SecurityContext context = context();
        Principal caller = context == null ? null : context.getCallerPrincipal();
        return caller != null && CallerLookup.isAnonymous(caller);
    }

    @Override
    public List<String> candidates() {
        SecurityContext context = context();
        if (context == null) {
            return List.of();
        }
        Principal caller = context.getCallerPrincipal();
        if (caller == null) {
            return List.of();
        }
        return CallerLookup.names(context.getPrincipalsByType(Principal.class), caller);
    }
}
