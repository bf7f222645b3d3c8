package dev.proxyra.pool;

import java.sql.Connection;

import dev.proxyra.identity.DbIdentity;

/**
 * One lending of a physical connection from UCP, running as one identity until {@link IdentityPool#release}:
 * what the application changed on it through the JDBC API, and what the adapter saw happen to it.
 */
public final class PhysicalSession {
    private final Connection connection;
    private final DbIdentity identity;
    private final SessionState state = new SessionState();
    private volatile boolean broken;
    private volatile boolean identityMayHaveChanged;
    private volatile boolean callsStillRunning;

    PhysicalSession(Connection connection, DbIdentity identity) {
        this.connection = connection;
        this.identity = identity;
    }

    /** UCP's connection: never handed to the application. */
    public Connection connection() {
        return connection;
    }

    public DbIdentity identity() {
        return identity;
    }

    /** Settings changed through the JDBC API during this lending, restored on release. */
    public SessionState state() {
        return state;
    }

    /** A fatal error was seen on the connection: it is discarded on release. */
    public void markBroken() {
        broken = true;
    }

    public boolean isBroken() {
        return broken;
    }

    /** The application ran SQL that may have changed the session's identity: it is discarded on release. */
    public void markIdentityMayHaveChanged() {
        identityMayHaveChanged = true;
    }

    boolean identityMayHaveChanged() {
        return identityMayHaveChanged;
    }

    /**
     * A handle closed while the application's calls were still inside the driver on this connection: nothing done
     * on it before they leave can be trusted to stay done. It is cancelled and discarded on release.
     */
    public void markCallsStillRunning() {
        callsStillRunning = true;
    }

    boolean callsStillRunning() {
        return callsStillRunning;
    }
}
