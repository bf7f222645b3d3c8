package dev.proxyra.spi;

import java.sql.SQLException;

import javax.transaction.xa.XAException;

import dev.proxyra.SqlState;
import dev.proxyra.dialect.Dialect;

/**
 * The XA error codes proxyra's XAResource reports, decided in one place. The rule they keep: a branch that is, or may
 * still be, prepared is never reported as XAER_RMERR (a transaction manager takes that as a heuristic outcome and
 * stops); a failure that leaves its outcome to a later try is XAER_RMFAIL, so the transaction manager retries
 * through recovery.
 */
final class XaErrors {
    private XaErrors() {
    }

    static XAException of(int code, String message, Throwable cause) {
        XAException e = new XAException(message);
        e.errorCode = code;
        if (cause != null) {
            e.initCause(cause);
        }
        return e;
    }

    /**
     * A PREPARE TRANSACTION or a one-phase COMMIT that failed with {@code e}: on a connection error the branch's fate
     * is unknown (it may be prepared, or committed), XAER_RMFAIL; on any other error PostgreSQL rolled it back, and
     * the XA_RB* code says why.
     */
    static int ofCompletion(SQLException e, Dialect.ErrorKind kind) {
        if (kind == Dialect.ErrorKind.FATAL) {
            return XAException.XAER_RMFAIL;
        }
        String state = e.getSQLState();
        if (SqlState.DEADLOCK_DETECTED.equals(state)) {
            return XAException.XA_RBDEADLOCK;
        }
        if (SqlState.SERIALIZATION_FAILURE.equals(state)) {
            return XAException.XA_RBTRANSIENT;
        }
        if (state != null && state.startsWith("23")) {
            return XAException.XA_RBINTEGRITY;
        }
        if (SqlState.QUERY_CANCELED.equals(state) || "25P04".equals(state)) {
            return XAException.XA_RBTIMEOUT; // statement_timeout, transaction_timeout
        }
        return XAException.XA_RBROLLBACK;
    }

    /**
     * COMMIT PREPARED or ROLLBACK PREPARED of a prepared branch failed with {@code e}: the gid was gone
     * (finished meanwhile by another resource) is XAER_NOTA; anything else leaves the branch prepared, XAER_RMFAIL.
     */
    static int ofFinish(SQLException e) {
        return SqlState.UNDEFINED_OBJECT.equals(e.getSQLState()) ? XAException.XAER_NOTA : XAException.XAER_RMFAIL;
    }
}
