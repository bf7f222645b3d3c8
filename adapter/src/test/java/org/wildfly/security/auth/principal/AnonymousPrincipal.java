package org.wildfly.security.auth.principal;

import java.security.Principal;

/**
 * Stand-in, by name, for WildFly Elytron's class of the same name, which WildFly hands the portable APIs (Jakarta
 * Security, the JACC Subject) for a request nobody signed in to: the adapter must recognise it by its class.
 */
public final class AnonymousPrincipal implements Principal {
    @Override
    public String getName() {
        return "anonymous";
    }
}
