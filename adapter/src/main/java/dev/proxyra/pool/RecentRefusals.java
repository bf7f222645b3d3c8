package dev.proxyra.pool;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The database's recent refusals of an identity, where a refusal costs a physical connection (Oracle: the driver
 * logs off the session whose switch was refused). While one is remembered, the same identity is refused without
 * touching a session: a storm of requests by one caller the database refuses costs one physical login per
 * {@link #MEMORY_SECONDS}, not one per request. Identities that carry a password are never remembered: each one
 * authenticates afresh.
 */
final class RecentRefusals {
    /** How long a refusal is remembered: also how long a grant the DBA just made may wait to be seen. */
    static final int MEMORY_SECONDS = 5;
    /** Bounds the memory: past it, refusals are not remembered (each costs a login again) until entries expire. */
    private static final int MAX_ENTRIES = 10_000;

    record Refused(long untilNanos, String reason) {
    }

    private final Map<String, Refused> byLabel = new ConcurrentHashMap<>();

    /** What the database said when it last refused {@code label}, if that was less than MEMORY_SECONDS ago. */
    String recent(String label) {
        Refused r = byLabel.get(label);
        if (r == null) {
            return null;
        }
        if (System.nanoTime() - r.untilNanos() >= 0) {
            byLabel.remove(label, r);
            return null;
        }
        return r.reason();
    }

    void remember(String label, String reason) {
        long now = System.nanoTime();
        if (byLabel.size() >= MAX_ENTRIES) {
            byLabel.values().removeIf(r -> now - r.untilNanos() >= 0);
            if (byLabel.size() >= MAX_ENTRIES) {
                return;
            }
        }
        byLabel.put(label, new Refused(now + TimeUnit.SECONDS.toNanos(MEMORY_SECONDS), reason));
    }
}
