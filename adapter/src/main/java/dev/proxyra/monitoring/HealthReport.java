package dev.proxyra.monitoring;

import java.beans.ConstructorProperties;

/** The answer of {@link ProxyraPoolMXBean#checkHealth()}: JMX shows it as CompositeData with these three items. */
public final class HealthReport {
    private final boolean up;
    private final String detail;
    private final long millis;

    @ConstructorProperties({"up", "detail", "millis"})
    public HealthReport(boolean up, String detail, long millis) {
        this.up = up;
        this.detail = detail;
        this.millis = millis;
    }

    /** A physical connection could be had and the database answered. */
    public boolean isUp() {
        return up;
    }

    /** What was found, in words. */
    public String getDetail() {
        return detail;
    }

    /** How long the check took. */
    public long getMillis() {
        return millis;
    }

    @Override
    public String toString() {
        return (up ? "UP" : "DOWN") + ": " + detail + " (" + millis + " ms)";
    }
}
