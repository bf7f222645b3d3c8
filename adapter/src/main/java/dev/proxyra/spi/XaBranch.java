package dev.proxyra.spi;

import javax.transaction.xa.XAException;

/**
 * Where the global transaction branch of one managed connection is, as its XAResource sees it (in the manner of
 * pgjdbc's PGXAConnection.State). Each constant says what holds in it; every move is one {@link #after} call, which
 * refuses a move the XA protocol does not allow with XAER_PROTO. A prepared branch is no state of a managed
 * connection: PREPARE TRANSACTION hands it to the database (pg_prepared_xacts), where any XAResource of the pool
 * finishes it as its owner, and the session is free again.
 */
enum XaBranch {
    /** No branch: the session, if there is one, is in auto-commit or in a local transaction. */
    NONE,
    /**
     * start(xid) was called: the branch's work runs on the session, which left auto-commit as the caller's session
     * (the identity was switched before, outside the branch). Without a session yet, taking one begins it.
     */
    ACTIVE,
    /** end(TMSUSPEND): as ACTIVE for the database; the transaction manager resumes it with start(TMRESUME). */
    SUSPENDED,
    /**
     * end(TMSUCCESS): the transaction manager says the work is done. Nothing was sent (SQL still reaching the
     * session belongs to the branch); prepare, a one-phase commit or a rollback follows, or start(TMJOIN).
     */
    ENDED,
    /** end(TMFAIL): the branch can only roll back; prepare and a one-phase commit roll it back with XA_RBROLLBACK. */
    ROLLBACK_ONLY;

    /** What the XAResource was asked. */
    enum Step {
        START, JOIN, RESUME, END_SUCCESS, END_SUSPEND, END_FAIL,
        /** prepare, or commit(onePhase=true): the branch leaves this managed connection, however it ends. */
        COMPLETE,
        ROLLBACK,
        /** cleanup or destroy: whatever is active is rolled back with the session's return. */
        RELEASE
    }

    /** The state after {@code step}, or XAER_PROTO when the XA protocol does not allow it from here. */
    XaBranch after(Step step) throws XAException {
        XaBranch next = switch (step) {
            case START -> this == NONE ? ACTIVE : null;
            case JOIN -> this == ENDED ? ACTIVE : null;
            case RESUME -> this == SUSPENDED ? ACTIVE : null;
            case END_SUCCESS -> this == ACTIVE || this == SUSPENDED ? ENDED : null;
            case END_SUSPEND -> this == ACTIVE ? SUSPENDED : null;
            case END_FAIL -> this == ACTIVE || this == SUSPENDED || this == ENDED || this == ROLLBACK_ONLY
                    ? ROLLBACK_ONLY : null;
            case COMPLETE -> this == ENDED || this == ROLLBACK_ONLY ? NONE : null;
            case ROLLBACK -> this != NONE ? NONE : null;
            case RELEASE -> NONE;
        };
        if (next == null) {
            throw XaErrors.of(XAException.XAER_PROTO, "proxyra: " + step + " is not allowed on a branch that is "
                    + this, null);
        }
        return next;
    }
}
