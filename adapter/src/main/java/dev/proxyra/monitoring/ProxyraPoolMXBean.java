package dev.proxyra.monitoring;

/**
 * One proxyra pool as JMX shows it, registered as {@code dev.proxyra:type=Pool,name=<PoolName>} in the platform
 * MBean server while the pool is open (from its first use until the adapter stops, is undeployed or the pool's
 * configuration changes). Counters count since the pool opened; times are in milliseconds.
 */
public interface ProxyraPoolMXBean {

    /** The pool's name: the PoolName property, or {@code <User>@<database>} from the URL. */
    String getPoolName();

    /** The configuration in force, passwords masked. */
    String getConfiguration();

    /** Physical connections open, idle and lent out. */
    int getPhysicalConnections();

    /** Physical connections open and idle in the pool. */
    int getIdleConnections();

    /** Physical connections lent to applications now. */
    int getBorrowedConnections();

    /** The most physical connections lent out at once. */
    int getPeakBorrowedConnections();

    /** MaxPoolSize. */
    int getMaxPoolSize();

    /** Borrows served by a pooled session already running as the caller. */
    long getBorrowsWarm();

    /** Borrows served by a pooled session switched (and reset) from another identity. */
    long getBorrowsSwitched();

    /** Borrows served by a physical connection opened for them. */
    long getBorrowsNewPhysical();

    /** Borrow time, request to a session ready for the caller: how many were timed. */
    long getBorrowTimeCount();

    double getBorrowTimeTotalMillis();

    double getBorrowTimeMaxMillis();

    double getBorrowTimeP50Millis();

    double getBorrowTimeP95Millis();

    double getBorrowTimeP99Millis();

    /** Requests refused because nobody was signed in (UnauthenticatedAccess=DENY). */
    long getRefusalsNoCaller();

    /** Requests refused because the caller maps to no valid database user (PrincipalMap, name rules). */
    long getRefusalsNotMapped();

    /** Requests refused by the database: the identity does not exist or is not granted to the proxy account. */
    long getRefusalsNotAuthorized();

    /** Requests that found every physical connection in use for ConnectionWaitTimeout. */
    long getRefusalsPoolExhausted();

    /** Requests that found the database unreachable or failing. */
    long getRefusalsDatabaseUnreachable();

    /** Requests refused by the configuration (proxy account login, URL, CallerSource, explicit user). */
    long getRefusalsConfiguration();

    /** Physical connections discarded after a fatal error, or found dead. */
    long getDiscardsFatalError();

    /** Physical connections discarded because application SQL changed, or may have changed, their identity. */
    long getDiscardsIdentityChanged();

    /** Physical connections discarded because what a caller left on them could not be reset. */
    long getDiscardsStateNotReset();

    /** Distinct database identities served, exact up to 10,000 (then "at least"). */
    int getDistinctIdentities();

    /**
     * Whether a physical connection can be had and the database answers: an idle connection (or a new one, if the
     * pool has room) is checked with the driver's own validation ({@code Connection.isValid}) and given back
     * unchanged. Nothing runs as the proxy account, no caller is needed. Takes at most ConnectionWaitTimeout plus
     * a few seconds; a pool with every connection lent out reports DOWN at once rather than waiting.
     */
    HealthReport checkHealth();
}
