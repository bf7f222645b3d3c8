package dev.proxyra;

/**
 * The SQLStates proxyra raises, and those of PostgreSQL it recognises, by name (SQL standard classes; PostgreSQL's
 * own codes where noted). What proxyra raises is part of its contract with applications: see docs/security.md.
 */
public final class SqlState {
    private SqlState() {
    }

    /** 08001: no connection could be established (database unreachable, configuration). */
    public static final String UNABLE_TO_CONNECT = "08001";
    /** 08003: the connection (handle, pool, adapter) is closed. */
    public static final String CONNECTION_DOES_NOT_EXIST = "08003";
    /** 08004: the server rejected the connection (pgjdbc: no password was provided). */
    public static final String CONNECTION_REJECTED = "08004";
    /** 08006: the connection failed. */
    public static final String CONNECTION_FAILURE = "08006";
    /** 0A000: a feature proxyra does not offer through its handles. */
    public static final String FEATURE_NOT_SUPPORTED = "0A000";
    /** 25000: not allowed in the current transaction state (one caller per transaction, demarcation rules). */
    public static final String INVALID_TRANSACTION_STATE = "25000";
    /** 28000: authorization refused (no caller, not mapped, not authorized in the database). */
    public static final String INVALID_AUTHORIZATION = "28000";
    /** 55000: an object is not in the state the operation needs (a session proxyra cannot serve on). */
    public static final String OBJECT_NOT_IN_PREREQUISITE_STATE = "55000";

    /** PostgreSQL 42501: permission denied (e.g. to set role). */
    public static final String INSUFFICIENT_PRIVILEGE = "42501";
    /** PostgreSQL 22023: invalid parameter value (e.g. SET ROLE to a role that does not exist). */
    public static final String INVALID_PARAMETER_VALUE = "22023";
    /** PostgreSQL 57014: the statement was cancelled. */
    public static final String QUERY_CANCELED = "57014";
    /** PostgreSQL 57P01: the backend was terminated (pg_terminate_backend, shutdown). */
    public static final String ADMIN_SHUTDOWN = "57P01";
    /** PostgreSQL 57P02: the server crashed. */
    public static final String CRASH_SHUTDOWN = "57P02";
    /** PostgreSQL 57P03: the server cannot accept connections now. */
    public static final String CANNOT_CONNECT_NOW = "57P03";

    /** Whether {@code state} is of class 28 (authorization). */
    /** undefined_object: PostgreSQL's answer to COMMIT/ROLLBACK PREPARED of a gid it does not hold. */
    public static final String UNDEFINED_OBJECT = "42704";
    /** serialization_failure. */
    public static final String SERIALIZATION_FAILURE = "40001";
    /** deadlock_detected. */
    public static final String DEADLOCK_DETECTED = "40P01";

    public static boolean isAuthorization(String state) {
        return state != null && state.startsWith("28");
    }
}
