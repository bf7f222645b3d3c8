package dev.proxyra.pool;

import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

import oracle.ucp.ConnectionLabelingCallback;

import dev.proxyra.identity.DbIdentity;

/**
 * Steers UCP towards a physical connection that already runs as the requested identity and, when none is
 * free, towards the one whose identity was wanted longest ago: like an LRU cache, the sessions of the
 * callers asking most often keep their identity, and fewer borrows pay a switch. Choosing is all it does:
 * {@link #configure} leaves the switch to {@link IdentityPool}, which checks the label of every connection UCP
 * hands out, so fresh, warm and re-used connections go through one code path; a cost never decides who a
 * session runs as.
 */
final class IdentityLabels implements ConnectionLabelingCallback {
    static final String KEY = "proxyra.identity";
    /** The client identifier last set on the session; not part of the cost: any session can be re-tagged. */
    static final String CLIENT_KEY = "proxyra.client";
    private static final int FRESH = 1;
    private static final int SWITCH = 10;
    /** How many borrows back recency still tells sessions apart; older is all the same. */
    private static final long RECENCY_SPAN = 1L << 20;
    private static final int OLDEST_RANK = recencyRank(RECENCY_SPAN);
    static final int MAX_REMEMBERED = 10_000;

    /** Per label value: the set borrows name (UCP only reads it, so one set serves every borrow). */
    private final ConcurrentHashMap<String, Wanted> wanted = new ConcurrentHashMap<>();
    /** Ticks once per borrow: a borrow order, not a time, so sessions are ranked the same on any machine. */
    private final AtomicLong borrows = new AtomicLong();

    private static final class Wanted {
        final Properties labels;
        volatile long lastBorrow;

        Wanted(Properties labels) {
            this.labels = labels;
        }
    }

    /** The label set to borrow {@code identity} (label value {@code value}) with, noting that it is wanted now. */
    Properties borrowing(String value, DbIdentity identity) {
        Wanted w = wanted.get(value);
        if (w == null) {
            if (wanted.size() >= MAX_REMEMBERED) {
                wanted.clear(); // bounded: beyond this many distinct identities, recency starts afresh
            }
            w = wanted.computeIfAbsent(value, v -> new Wanted(labelsFor(identity)));
        }
        w.lastBorrow = borrows.incrementAndGet();
        return w.labels;
    }

    static Properties labelsFor(DbIdentity identity) {
        Properties labels = new Properties();
        labels.setProperty(KEY, valueFor(identity));
        return labels;
    }

    private static final String PROXY_ACCOUNT = "proxy-account";

    /**
     * The label value of an identity: the database user, its roles and the caller. Every name is length-prefixed,
     * so no two identities share a value (with a plain join, database user "alice roles=x" and alice with role x
     * would). The caller is part of it because a warm session keeps what SQL left on it (temporary tables,
     * settings, prepared statements): two callers PrincipalMap maps to one database user get the reset between
     * them, as two database users do; only the same caller again finds its session warm.
     */
    static String valueFor(DbIdentity identity) {
        if (identity.isProxyAccount()) {
            return PROXY_ACCOUNT;
        }
        StringBuilder value = new StringBuilder("user:");
        appendName(value, identity.databaseUser());
        for (String role : identity.roles()) {
            appendName(value.append(";role:"), role);
        }
        if (identity.caller() != null) {
            appendName(value.append(";caller:"), identity.caller());
        }
        return value.toString();
    }

    private static void appendName(StringBuilder value, String name) {
        value.append(name.length()).append(':').append(name);
    }

    /**
     * The identity a label value was made from, as far as a session check needs it: the database user
     * (roles and caller are left out). Null for no label, or one this class did not make.
     */
    static DbIdentity identityIn(String value) {
        if (value == null) {
            return null;
        }
        if (value.equals(PROXY_ACCOUNT)) {
            return DbIdentity.PROXY_ACCOUNT;
        }
        try {
            int colon = value.indexOf(':', "user:".length());
            int length = Integer.parseInt(value, "user:".length(), colon, 10);
            return value.startsWith("user:") ? DbIdentity.of(value.substring(colon + 1, colon + 1 + length), null) : null;
        } catch (RuntimeException notOurs) {
            return null;
        }
    }

    @Override
    public int cost(Properties requested, Properties current) {
        String want = requested == null ? null : requested.getProperty(KEY);
        String have = current == null ? null : current.getProperty(KEY);
        if (want != null && want.equals(have)) {
            return 0;
        }
        if (have == null) {
            return FRESH;
        }
        Wanted last = wanted.get(have);
        if (last == null) {
            return SWITCH; // wanted by no one this pool remembers: the cheapest session to take
        }
        long age = Math.max(0, Math.min(RECENCY_SPAN, borrows.get() - last.lastBorrow));
        // 11 to 103: far from Integer.MAX_VALUE ("nothing fits"), and within the JDK's cache of small Integers
        // (UCP boxes every cost it compares: larger ones would allocate per free session and borrow)
        return SWITCH + 1 + OLDEST_RANK - recencyRank(age);
    }

    /**
     * Ranks an age in borrows, growing with it: exact up to 31, then in quarters of each doubling, so the ranks
     * of the whole span stay small. Sessions only need telling apart among the few that are free at once.
     */
    static int recencyRank(long age) {
        if (age < 32) {
            return (int) age;
        }
        int bits = 64 - Long.numberOfLeadingZeros(age);
        return 32 + 4 * (bits - 6) + (int) ((age >>> (bits - 3)) & 3);
    }

    @Override
    public boolean configure(Properties requested, Object connection) {
        return true;
    }

    /** How many label sets are remembered now (at most MAX_REMEMBERED): the memory per distinct identity seen. */
    int remembered() {
        return wanted.size();
    }
}
