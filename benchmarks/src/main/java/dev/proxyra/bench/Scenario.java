package dev.proxyra.bench;

/**
 * What one borrow does, in each alternative a user could choose. Every scenario runs the same unit of
 * work: take a connection, {@code select current_user}, give the connection back. Every pool has the
 * same UCP settings ({@link Ucp#configure}), so only what the scenario names differs.
 */
public enum Scenario {
    /** (a) proxyra, the same caller on every borrow: the warm, labelled session is reused. */
    PROXYRA_SAME("a", "proxyra, same caller", true, false),
    /** (a') as (a) with IdentityCheck=SCAN: no check round trip before a warm session is reused. */
    PROXYRA_SAME_SCAN("a-scan", "proxyra, same caller, IdentityCheck=SCAN", true, false),
    /** (b) proxyra, a different caller on every borrow: every borrow switches the session's role. */
    PROXYRA_SWITCH("b", "proxyra, new caller each borrow", true, true),
    /** (c) raw UCP, labelled borrow, SET ROLE in UCP's labelling callback only on a miss: the floor for (a). */
    UCP_LABELLED("c", "raw UCP, labelled", false, false),
    /** (d) raw UCP, unlabelled borrow, SET ROLE and RESET ROLE by hand on every borrow. */
    UCP_SET_ROLE("d", "raw UCP, SET/RESET ROLE by hand", false, true),
    /** (e) no pool: a new physical connection per request, then SET ROLE to the caller. */
    NEW_CONNECTION("e", "new connection per request", false, true);

    private final String id;
    private final String label;
    private final boolean proxyra;
    private final boolean callerChangesEachBorrow;

    Scenario(String id, String label, boolean proxyra, boolean callerChangesEachBorrow) {
        this.id = id;
        this.label = label;
        this.proxyra = proxyra;
        this.callerChangesEachBorrow = callerChangesEachBorrow;
    }

    /** The short name used in the issue and in the ratios: a, a-scan, b, c, d, e. */
    public String id() {
        return id;
    }

    public String label() {
        return label;
    }

    public boolean proxyra() {
        return proxyra;
    }

    /** Whether the benchmark hands this scenario a different caller on every borrow. */
    public boolean callerChangesEachBorrow() {
        return callerChangesEachBorrow;
    }

    public static Scenario byId(String id) {
        for (Scenario s : values()) {
            if (s.id.equals(id) || s.name().equalsIgnoreCase(id)) {
                return s;
            }
        }
        throw new IllegalArgumentException("unknown scenario '" + id + "'");
    }
}
