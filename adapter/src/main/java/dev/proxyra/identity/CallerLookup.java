package dev.proxyra.identity;

import java.security.Principal;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * One link of the caller chain. {@link #candidates()} returns the principal names this source knows
 * for the calling thread (empty when it knows none) or throws when the source itself is broken, which
 * fails the request: a broken source must never let the chain fall through to a weaker one.
 */
interface CallerLookup {

    /** Name used in messages, e.g. "CallerSource com.example.Users". */
    String description();

    /** Candidate principal names, most specific first; empty when this source has no caller. */
    List<String> candidates() throws CallerResolutionException;

    /**
     * Whether this source knows for certain that nobody is signed in on this thread: the chain then stops, so that a
     * weaker source cannot present the server's anonymous principal (WildFly's "anonymous") as a caller.
     */
    default boolean anonymous() throws CallerResolutionException {
        return false;
    }

    /** The caller's container groups as this source knows them (RoleMap); empty when it knows none. */
    default List<String> groups() throws CallerResolutionException {
        return List.of();
    }

    /** The names of the group principals among {@code principals}. */
    static List<String> groupNames(Collection<? extends Principal> principals) {
        List<String> groups = new ArrayList<>();
        for (Principal p : principals) {
            if (p != null && p.getName() != null && isGroup(p)) {
                groups.add(p.getName());
            }
        }
        return groups;
    }

    /**
     * The caller principal's name, then the names of the other principals that are not groups or roles: a
     * group is never a candidate for the caller, or PrincipalPrefix could pick group example.dba as caller dba.
     */
    static List<String> names(Collection<? extends Principal> principals, Principal caller) {
        List<String> callers = new ArrayList<>();
        if (caller != null && caller.getName() != null && !isAnonymous(caller)) {
            callers.add(caller.getName());
        }
        for (Principal p : principals) {
            if (p != null && p.getName() != null && p != caller && !p.equals(caller) && !isGroup(p) && !isAnonymous(p)) {
                callers.add(p.getName());
            }
        }
        return callers;
    }

    /**
     * A server's stand-in for "nobody signed in", which portable APIs (Jakarta Security, the JACC Subject) report
     * like a caller: WildFly's AnonymousPrincipal ("anonymous"), Liberty's WSPrincipal "UNAUTHENTICATED", Payara's
     * PrincipalImpl "ANONYMOUS". Recognised by class, and by the server's default name only with its class.
     */
    static boolean isAnonymous(Principal p) {
        String type = p.getClass().getName();
        String name = p.getName();
        return type.equals("org.wildfly.security.auth.principal.AnonymousPrincipal")
                || (type.endsWith(".WSPrincipal") && "UNAUTHENTICATED".equals(name))
                || (type.startsWith("org.glassfish.security.common.") && "ANONYMOUS".equals(name));
    }

    /** Containers put group principals beside the caller principal; they are never the caller. */
    static boolean isGroup(Principal p) {
        String simple = p.getClass().getSimpleName();
        return simple.contains("Group") || simple.contains("Role");
    }
}
