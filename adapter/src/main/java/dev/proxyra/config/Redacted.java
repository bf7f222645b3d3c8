package dev.proxyra.config;

import java.sql.SQLException;
import java.util.IdentityHashMap;
import java.util.Map;

/**
 * Copies of exceptions with secrets removed from their messages, for causes that come from the driver or
 * UCP and may quote the JDBC URL (pgjdbc: "URL invalid jdbc:postgresql://...password=..."): attached as a
 * cause, such an exception would print the password in every stack trace a server logs. Class names,
 * SQLStates, vendor codes and stack frames are kept.
 */
public final class Redacted {
    private Redacted() {
    }

    /** {@code t} and its causes and suppressed exceptions, each message scrubbed of {@code secrets}. */
    public static Throwable copyOf(Throwable t, Secret... secrets) {
        return copy(t, secrets, new IdentityHashMap<>());
    }

    private static Throwable copy(Throwable t, Secret[] secrets, Map<Throwable, Throwable> done) {
        if (t == null) {
            return null;
        }
        Throwable seen = done.get(t);
        if (seen != null) {
            return seen;
        }
        String message = t.getClass().getName() + (t.getMessage() == null ? "" : ": "
                + Secret.scrub(t.getMessage(), secrets));
        Throwable copy = t instanceof SQLException sql
                ? new SQLException(message, sql.getSQLState(), sql.getErrorCode())
                : new Exception(message);
        done.put(t, copy);
        copy.setStackTrace(t.getStackTrace());
        Throwable cause = t.getCause() == t ? null : copy(t.getCause(), secrets, done);
        if (cause != null) {
            copy.initCause(cause);
        }
        for (Throwable s : t.getSuppressed()) {
            copy.addSuppressed(copy(s, secrets, done));
        }
        return copy;
    }
}
