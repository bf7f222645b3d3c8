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
        if (caller != null && caller.getName() != null) {
            callers.add(caller.getName());
        }
        for (Principal p : principals) {
            if (p != null && p.getName() != null && p != caller && !p.equals(caller) && !isGroup(p)) {
                callers.add(p.getName());
            }
        }
        return callers;
    }

    /** Containers put group principals beside the caller principal; they are never the caller. */
    static boolean isGroup(Principal p) {
        String simple = p.getClass().getSimpleName();
        return simple.contains("Group") || simple.contains("Role");
    }
}
