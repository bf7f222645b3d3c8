package dev.proxyra.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Locale;
import java.util.function.BooleanSupplier;

import javax.sql.DataSource;

import dev.proxyra.testing.Database;
import dev.proxyra.testing.TestCallers;

/** What the reliability scenarios share: the factory they start from, the identity probe, the figures line. */
final class Scenario {
    /**
     * Appears in every probe statement, so the database's own statistics can count them per role. The
     * third column matters: pg_stat_statements ignores column aliases, and without it the probe would
     * share its entry with the adapter's own identity check ({@code select current_user, session_user}).
     */
    static final String PROBE_MARKER = "reliability_probe";
    static final String PROBE = "select current_user as " + PROBE_MARKER + ", session_user, pg_backend_pid()";

    private Scenario() {
    }

    static String caller(int index) {
        return String.format(Locale.ROOT, "caller%03d", index + 1);
    }

    /**
     * Runs the probe on {@code c}: null when the session runs as {@code caller} logged in as the proxy
     * account, else what the database said.
     */
    static String wrongIdentity(Connection c, String caller) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(PROBE)) {
            rs.next();
            String current = rs.getString(1);
            String session = rs.getString(2);
            if (caller.equals(current) && Database.PROXY_USER.equals(session)) {
                return null;
            }
            return "caller " + caller + " ran as current_user=" + current + ", session_user=" + session;
        }
    }

    /** Prints the scenario's one line of figures. */
    /** After a fault: the same DataSource serves each of the first {@code identities} callers as itself again. */
    static void assertEveryIdentityServed(DataSource ds, int identities) throws SQLException {
        try {
            for (int i = 0; i < identities; i++) {
                String caller = caller(i);
                TestCallers.set(caller);
                try (Connection c = ds.getConnection()) {
                    assertThat(wrongIdentity(c, caller)).as(caller).isNull();
                }
            }
        } finally {
            TestCallers.set(null);
        }
    }

    static void figures(String scenario, String figures) {
        System.out.println("[reliability] " + scenario + ": " + figures);
    }

    static String seconds(long nanos) {
        return String.format(Locale.ROOT, "%.2fs", nanos / 1e9);
    }

    /**
     * Waits for a condition that becomes true asynchronously, with no event to wait on (e.g. the
     * database noticing a closed socket): polls with a deadline; returns whether it became true.
     */
    static boolean eventually(BooleanSupplier condition, long timeoutMillis) throws InterruptedException {
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000L;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            Thread.sleep(20); // polling interval only; the outcome is asserted, not assumed
        }
        return true;
    }
}
