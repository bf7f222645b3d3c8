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

    @Override
    public List<String> candidates() {
        SecurityContext context;
        try {
            var instance = CDI.current().select(SecurityContext.class);
            if (!instance.isResolvable()) {
                return List.of();
            }
            context = instance.get();
        } catch (RuntimeException | LinkageError e) {
            // No CDI container on this thread (non-managed use, a thread the server did not start).
            return List.of();
        }
        Principal caller = context.getCallerPrincipal();
        if (caller == null) {
            return List.of();
        }
        return CallerLookup.names(context.getPrincipalsByType(Principal.class), caller);
    }
}
