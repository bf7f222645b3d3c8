package dev.proxyra.reliability;

import java.sql.SQLException;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/** Counts errors by kind (SQLState, plus a few words of the adapter's reason) for the figures line. */
final class Tally {
    private final Map<String, LongAdder> counts = new ConcurrentHashMap<>();
    private final Map<String, Long> slowest = new ConcurrentHashMap<>();

    void add(String kind) {
        counts.computeIfAbsent(kind, k -> new LongAdder()).increment();
    }

    /** Counts {@code e} under its SQLState and, for the adapter's own errors, the reason it names. */
    String add(Throwable e) {
        String kind = kindOf(e);
        add(kind);
        return kind;
    }

    /** Counts {@code e} and remembers the longest a request of its kind took to fail. */
    String add(Throwable e, long nanos) {
        String kind = add(e);
        slowest.merge(kind, nanos, Math::max);
        return kind;
    }

    /** The longest time to failure per kind, in seconds. */
    String slowest() {
        Map<String, String> m = new TreeMap<>();
        slowest.forEach((k, v) -> m.put(k, Scenario.seconds(v)));
        return m.toString();
    }

    static String kindOf(Throwable e) {
        if (!(e instanceof SQLException sql)) {
            return e.getClass().getSimpleName();
        }
        String state = sql.getSQLState() == null ? "null" : sql.getSQLState();
        String message = String.valueOf(sql.getMessage());
        if (message.contains("pool exhausted")) {
            return state + " pool exhausted";
        }
        if (message.contains("unreachable")) {
            return state + " unreachable";
        }
        if (message.contains("is closed")) {
            return state + " closed";
        }
        return state;
    }

    long total() {
        return counts.values().stream().mapToLong(LongAdder::sum).sum();
    }

    Map<String, Long> snapshot() {
        Map<String, Long> m = new TreeMap<>();
        counts.forEach((k, v) -> m.put(k, v.sum()));
        return m;
    }

    @Override
    public String toString() {
        return snapshot().toString();
    }
}
