package dev.proxyra.monitoring;

import java.sql.SQLException;
import java.sql.SQLInvalidAuthorizationSpecException;
import java.sql.SQLNonTransientConnectionException;
import java.sql.SQLTransientConnectionException;

import dev.proxyra.SqlState;

/**
 * Why a connection request was refused: the reason an operator counts (one counter per reason on the pool's MBean)
 * and the application reads (the message). Every refusal proxyra raises is one of the exceptions made here, so the
 * reason travels with it through the server's connection manager and is counted once, where it is known.
 */
public enum Refusal {
    /** Nobody is signed in (or the server reports its anonymous identity), and UnauthenticatedAccess=DENY. */
    NO_CALLER("no caller"),
    /** The caller has no valid database user: not in PrincipalMap, or a name the database cannot have. */
    NOT_MAPPED("not mapped"),
    /** The database refused the identity (no such role, not granted to the proxy account), or it is the proxy account. */
    NOT_AUTHORIZED("not authorized in the database"),
    /** Every physical connection (MaxPoolSize) was in use for ConnectionWaitTimeout. */
    POOL_EXHAUSTED("pool exhausted"),
    /** No physical connection could be opened or used: the database is down, unreachable or failing. */
    DATABASE_UNREACHABLE("database unreachable"),
    /** The pool or the request is configured wrongly: URL, proxy account, CallerSource, explicit user. */
    CONFIGURATION("configuration");

    private final String label;

    Refusal(String label) {
        this.label = label;
    }

    /** The reason in words, as the logs print it. */
    public String label() {
        return label;
    }

    /** SQLState 28000: an authorization refusal. */
    public SQLInvalidAuthorizationSpecException authorization(String message, Throwable cause) {
        return new Authorization(this, message, cause);
    }

    /** SQLState class 08, transient: the request may succeed when retried. */
    public SQLTransientConnectionException transientConnection(String message, String sqlState, Throwable cause) {
        return new TransientConnection(this, message, sqlState, cause);
    }

    /** SQLState class 08, not transient: retrying will not help until the configuration changes. */
    public SQLNonTransientConnectionException nonTransientConnection(String message, String sqlState, Throwable cause) {
        return new NonTransientConnection(this, message, sqlState, cause);
    }

    /** The reason {@code e} was refused for, or null when it is not one of proxyra's refusals. */
    public static Refusal of(SQLException e) {
        return e instanceof Refused r ? r.refusal() : null;
    }

    /** An SQLException that carries its refusal reason. */
    public interface Refused {
        Refusal refusal();
    }

    static final class Authorization extends SQLInvalidAuthorizationSpecException implements Refused {
        private static final long serialVersionUID = 1L;
        private final Refusal refusal;

        Authorization(Refusal refusal, String message, Throwable cause) {
            super(message, SqlState.INVALID_AUTHORIZATION, cause);
            this.refusal = refusal;
        }

        @Override
        public Refusal refusal() {
            return refusal;
        }
    }

    static final class TransientConnection extends SQLTransientConnectionException implements Refused {
        private static final long serialVersionUID = 1L;
        private final Refusal refusal;

        TransientConnection(Refusal refusal, String message, String sqlState, Throwable cause) {
            super(message, sqlState, cause);
            this.refusal = refusal;
        }

        @Override
        public Refusal refusal() {
            return refusal;
        }
    }

    static final class NonTransientConnection extends SQLNonTransientConnectionException implements Refused {
        private static final long serialVersionUID = 1L;
        private final Refusal refusal;

        NonTransientConnection(Refusal refusal, String message, String sqlState, Throwable cause) {
            super(message, sqlState, cause);
            this.refusal = refusal;
        }

        @Override
        public Refusal refusal() {
            return refusal;
        }
    }
}
