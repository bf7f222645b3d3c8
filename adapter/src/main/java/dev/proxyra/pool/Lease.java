package dev.proxyra.pool;

import java.sql.Connection;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import dev.proxyra.dialect.Dialect;
import dev.proxyra.identity.DbIdentity;
import dev.proxyra.monitoring.PoolMetrics.Discard;

/**
 * One lending of a physical connection from UCP: taken by a borrow, lent to one identity, ended exactly once by
 * {@link IdentityPool}, which then gives it back to UCP or discards it. Every way out of a lending goes through that
 * one end, so the pool's count of lent sessions, its metrics and "retired and drained, so close" happen once per
 * lending, however it ends.
 */
public final class Lease {

    /** Where a lending is; every move is one compare-and-set in {@link #move}, and any other move throws. */
    public enum Phase {
        /**
         * Taken from UCP and counted as lent out; its identity is being checked or switched. Nothing of the
         * application has reached it: it can still be discarded and another one taken.
         */
        TAKEN,
        /** Runs as {@link #identity()}; the application reaches it only through handles of one managed connection. */
        LENT,
        /** Given back to UCP or discarded, and no longer counted as lent out. Nothing may use it any more. */
        ENDED
    }

    /**
     * What was seen on a lent session that forbids lending it again. A taint only ever adds up; at the end the first
     * one in declaration order names the reason it is thrown away (a fatal error explains the rest: a server that
     * destroys the connection on the error event does so while the failing call is still inside the driver).
     */
    public enum Taint {
        /** The driver reported a fatal error on it. */
        BROKEN(Discard.FATAL_ERROR, "a fatal error was reported on it"),
        /**
         * A handle closed while calls of the application were still inside the driver: nothing done on the session
         * before they leave can be trusted to stay done. Their work is cancelled.
         */
        CALLS_STILL_RUNNING(Discard.STATE_NOT_RESET,
                "calls of the application were still running on it when its handle closed"),
        /** The application ran SQL that can change the session's identity. */
        IDENTITY_SUSPECT(Discard.IDENTITY_CHANGED, "the application ran SQL that can change the session's role");

        private final Discard discard;
        private final String reason;

        Taint(Discard discard, String reason) {
            this.discard = discard;
            this.reason = reason;
        }

        public Discard discard() {
            return discard;
        }

        public String reason() {
            return reason;
        }

        private int bit() {
            return 1 << ordinal();
        }
    }

    private final Connection connection;
    private final Dialect dialect;
    private final SessionState state = new SessionState();
    private final AtomicReference<Phase> phase = new AtomicReference<>(Phase.TAKEN);
    private final AtomicInteger taints = new AtomicInteger();
    private volatile DbIdentity identity;

    Lease(Connection connection, Dialect dialect) {
        this.connection = connection;
        this.dialect = dialect;
    }

    /** UCP's connection: never handed to the application. */
    public Connection connection() {
        return connection;
    }

    /** The rules of the database this session belongs to. */
    public Dialect dialect() {
        return dialect;
    }

    /** The identity it was lent as; null before it is lent. */
    public DbIdentity identity() {
        return identity;
    }

    /** Settings changed through the JDBC API during this lending, restored when it ends. */
    public SessionState state() {
        return state;
    }

    public Phase phase() {
        return phase.get();
    }

    /** Marks what was seen on the session; the end of the lending then discards it. */
    public void taint(Taint taint) {
        taints.getAndUpdate(t -> t | taint.bit());
    }

    /**
     * Notes SQL the application runs: SQL that can change the session's identity, where the database lets SQL do
     * that, taints it.
     */
    public void sqlSeen(String sql) {
        if (dialect.identityChangeableBySql() && dialect.mayChangeIdentity(sql)) {
            taint(Taint.IDENTITY_SUSPECT);
        }
    }

    /** Whether {@code taint} was seen on this lending. */
    public boolean has(Taint taint) {
        return (taints.get() & taint.bit()) != 0;
    }

    /** The taint that names why the session is discarded, or null for an untainted one. */
    public Taint worstTaint() {
        int set = taints.get();
        for (Taint t : Taint.values()) {
            if ((set & t.bit()) != 0) {
                return t;
            }
        }
        return null;
    }

    void lend(DbIdentity as) {
        move(Phase.TAKEN, Phase.LENT);
        this.identity = as;
    }

    /** The one way to {@link Phase#ENDED}, from wherever the lending is; a second end is a bug and throws. */
    void end() {
        Phase was = phase.get();
        if (was == Phase.ENDED || !phase.compareAndSet(was, Phase.ENDED)) {
            throw new IllegalStateException("proxyra: a lending ended twice");
        }
    }

    private void move(Phase expected, Phase next) {
        if (!phase.compareAndSet(expected, next)) {
            throw new IllegalStateException("proxyra: a lending cannot move from " + phase.get() + " to " + next
                    + " (expected " + expected + ")");
        }
    }
}
