package dev.proxyra.dialect;

import java.nio.charset.StandardCharsets;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What a session switched to a caller's role gets on top of the role itself, as statements that travel in the
 * switch's own round trip: the role's own settings ({@code ALTER ROLE r SET ...}, {@code ALTER ROLE r IN DATABASE d
 * SET ...}), which a login as that role would have applied, and the caller's name as {@code application_name}
 * (ClientIdentifier), which the server's log ({@code %a}), {@code pg_stat_activity} and pgaudit show.
 */
final class PostgresCallerSettings {
    private PostgresCallerSettings() {
    }

    /** The label of the column of {@link #apply}'s result: one row per setting applied. */
    static final String APPLIED = "proxyra_role_setting";

    /**
     * Roles a switch recently found without settings: the next switches to them within RoleSettingsCacheSeconds
     * ({@link #FRESH_SECONDS} by default; 0: none, every switch asks) leave
     * the settings' statement out, which is most of what the feature costs the database (planning a catalogue query on
     * every switch). A role with settings is asked every time, so a change to them, or their removal, applies at its
     * next switch; settings given to a role that had none apply within that time (a pool of logins would apply them
     * only to sessions that log in after). What the cache holds comes from the catalogue only, never from a caller.
     */
    static final class KnownWithout {
        static final long FRESH_SECONDS = 60;
        private static final int MAX_ROLES = 4096;
        private final java.util.function.LongSupplier nanoTime;
        private final long freshNanos;
        private final Map<String, Long> freshUntil = new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, Long> eldest) {
                return size() > MAX_ROLES;
            }
        };

        KnownWithout() {
            this(System::nanoTime);
        }

        KnownWithout(java.util.function.LongSupplier nanoTime) {
            this(nanoTime, FRESH_SECONDS);
        }

        /** {@code freshSeconds}: how long a role found without settings is not asked again; 0, never cached. */
        KnownWithout(java.util.function.LongSupplier nanoTime, long freshSeconds) {
            this.nanoTime = nanoTime;
            this.freshNanos = java.util.concurrent.TimeUnit.SECONDS.toNanos(freshSeconds);
        }

        /** Whether {@code role} was found without settings recently enough to leave them out. */
        synchronized boolean has(String role) {
            Long until = freshUntil.get(role);
            if (until == null) {
                return false;
            }
            if (nanoTime.getAsLong() - until >= 0) {
                freshUntil.remove(role);
                return false;
            }
            return true;
        }

        /** What a switch that asked found: {@code applied} settings for {@code role}. */
        synchronized void found(String role, int applied) {
            if (applied == 0 && freshNanos > 0) {
                freshUntil.put(role, nanoTime.getAsLong() + freshNanos);
            } else {
                freshUntil.remove(role);
            }
        }

        /** How many settings {@code rs} says were applied, when it is {@link #apply}'s result; -1 otherwise. */
        static int applied(ResultSet rs) throws SQLException {
            if (!APPLIED.equals(rs.getMetaData().getColumnLabel(1))) {
                return -1;
            }
            int rows = 0;
            while (rs.next()) {
                rows++;
            }
            return rows;
        }
    }

    /** PostgreSQL keeps NAMEDATALEN - 1 bytes of application_name. */
    static final int APPLICATION_NAME_MAX_BYTES = 63;

    /**
     * The settings pg_db_role_setting holds for the role {@code role} (an SQL expression of type text) in this
     * database and in every database, as name and value, every-database ones first: applied in that order, the role's
     * setting in this database wins, as at a login (postinit.c's process_settings). Database-wide defaults
     * ({@code ALTER DATABASE ... SET}, {@code ALTER ROLE ALL ...}) are left out: the proxy role's own login applied
     * them, and RESET ALL goes back to them. {@code role} and {@code session_authorization} are left out too: the
     * identity is the role proxyra switched to, never a second one a default names. Kept simple on purpose: planned
     * on every switch, for most roles it finds nothing.
     */
    private static String roleSettings(String role) {
        return " FROM pg_catalog.pg_db_role_setting r, pg_catalog.unnest(r.setconfig) c(setting),"
                + " LATERAL (SELECT pg_catalog.split_part(c.setting, '=', 1) AS name,"
                + " pg_catalog.substr(c.setting, pg_catalog.strpos(c.setting, '=') OPERATOR(pg_catalog.+) 1) AS value) n"
                + " WHERE r.setrole OPERATOR(pg_catalog.=) pg_catalog.to_regrole(pg_catalog.quote_ident(" + role + "))::pg_catalog.oid"
                + " AND (r.setdatabase OPERATOR(pg_catalog.=) 0 OR r.setdatabase OPERATOR(pg_catalog.=) (SELECT d.oid FROM pg_catalog.pg_database d"
                + " WHERE d.datname OPERATOR(pg_catalog.=) pg_catalog.current_database()))"
                + " AND pg_catalog.lower(n.name) OPERATOR(pg_catalog.<>) 'role'"
                + " AND pg_catalog.lower(n.name) OPERATOR(pg_catalog.<>) 'session_authorization'";
    }

    /**
     * Applies the role's settings for the session (set_config(..., false): they last until the next switch's RESET
     * ALL; a warm borrow of the same identity keeps them), then {@code applicationName} (null: none), which replaces
     * one the role may have, when {@code onlyIf} (an SQL condition, null: always) holds. set_config is volatile, so
     * PostgreSQL calls it after sorting the rows. A setting the session may not set (one that needs superuser) fails
     * the statement, and with it the whole round trip, which PostgreSQL then undoes: see {@link #refused}. From here
     * on the session has the role's search_path: every statement after this one in the round trip names its
     * functions and operators schema-qualified.
     */
    static String apply(String role, String applicationName, String onlyIf) {
        String settings = "SELECT pg_catalog.set_config(n.name, n.value, false) AS " + APPLIED + roleSettings(role)
                + (onlyIf == null ? "" : " AND " + onlyIf) + " ORDER BY r.setdatabase";
        if (applicationName == null) {
            return settings;
        }
        return settings + "; " + (onlyIf == null ? setApplicationName(applicationName)
                : "SELECT pg_catalog.set_config('application_name', " + literal(applicationName) + ", false) WHERE "
                        + onlyIf);
    }

    /**
     * After a switch to {@code role} that asked for its settings failed with 42501 (the round trip undone): the
     * refusal, with PostgreSQL's own message (which names the parameter, or says the role itself was refused) and what
     * a named parameter means. Applying a role's settings is not optional: a login as the role would run with them,
     * and one of them may be what audits or limits it (pgaudit.log, log_statement); skipping it would be silent. Which
     * of the two it was is not asked: that would be a statement run as the session's identity for a caller the
     * database refused. The proxy role itself may hold no privilege on a parameter (see PostgresProxyRole), so the
     * fix is the database's or the server's configuration.
     */
    static SQLException refused(String role, SQLException failure) {
        return new SQLException(failure.getMessage() + " (when that names a parameter: role \"" + role + "\" has it as a"
                + " setting, ALTER ROLE ... SET, which a login applies with the rights of whoever stored it and a session"
                + " of the proxy role may not set; proxyra does not switch to the role without it: set it for the"
                + " database, ALTER DATABASE ... SET, or in the server's configuration, or remove it from the role)",
                failure.getSQLState(), failure);
    }

    /**
     * The caller's name as application_name: printable ASCII as is; every other character (control characters,
     * non-ASCII) and '%' as its UTF-8 bytes, each %XX, as in a URL. The server would replace such bytes itself, by
     * '?' before PostgreSQL 16 and by \xXX since: encoded here, the value is the same on every version, two callers
     * never look alike, and the server reports back exactly what was sent. At most 63 bytes: a longer name is cut
     * between two characters (never inside one's encoding) and marked with {@code %~} and 8 hex digits of the SHA-256
     * of the whole name, so two long names that share their first bytes still differ, and no name can pass for a cut
     * one ({@code %} is always followed by two hex digits otherwise). Null for a request without a caller.
     */
    static String applicationNameFor(String caller) {
        if (caller == null || caller.isEmpty()) {
            return null;
        }
        StringBuilder out = new StringBuilder(Math.min(caller.length(), APPLICATION_NAME_MAX_BYTES));
        int cutAt = -1; // the length of the longest prefix that leaves room for the cut's marker
        for (int i = 0; i < caller.length(); ) {
            int cp = caller.codePointAt(i);
            i += Character.charCount(cp);
            String unit;
            if (cp >= 0x20 && cp <= 0x7e && cp != '%') {
                unit = String.valueOf((char) cp);
            } else {
                StringBuilder hex = new StringBuilder();
                for (byte b : new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8)) {
                    hex.append('%').append(Character.toUpperCase(Character.forDigit((b >> 4) & 0xf, 16)))
                            .append(Character.toUpperCase(Character.forDigit(b & 0xf, 16)));
                }
                unit = hex.toString();
            }
            if (out.length() + unit.length() > APPLICATION_NAME_MAX_BYTES - CUT_MARKER_BYTES && cutAt < 0) {
                cutAt = out.length();
            }
            if (out.length() + unit.length() > APPLICATION_NAME_MAX_BYTES) {
                out.setLength(cutAt);
                return out.append("%~").append(shortHash(caller)).toString();
            }
            out.append(unit);
        }
        return out.toString();
    }

    /** What marks a cut name: {@code %~} and 8 hex digits. */
    private static final int CUT_MARKER_BYTES = 10;

    /** 8 hex digits of the SHA-256 of {@code caller}'s UTF-8 bytes. */
    private static String shortHash(String caller) {
        try {
            byte[] digest = java.security.MessageDigest.getInstance("SHA-256")
                    .digest(caller.getBytes(StandardCharsets.UTF_8));
            return java.util.HexFormat.of().formatHex(digest, 0, 4);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-256", e);
        }
    }

    /**
     * {@code applicationName} (printable ASCII, from {@link #applicationNameFor}) as an E'' literal, escaped here: it
     * reads the same whatever standard_conforming_strings the statement runs with (the RESET ALL before it may change
     * that after the driver would have escaped it).
     */
    private static String literal(String applicationName) {
        return "E'" + applicationName.replace("\\", "\\\\").replace("'", "''") + "'";
    }

    /** The statement that sets {@code applicationName} alone: a warm session whose application changed it. */
    static String setApplicationName(String applicationName) {
        return "SET application_name = " + literal(applicationName);
    }
}
