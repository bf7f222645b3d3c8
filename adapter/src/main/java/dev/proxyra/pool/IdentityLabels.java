package dev.proxyra.pool;

import java.util.Properties;

import oracle.ucp.ConnectionLabelingCallback;

import dev.proxyra.identity.DbIdentity;

/**
 * Steers UCP towards a physical connection that already runs as the requested identity. Choosing is
 * all it does: {@link #configure} leaves the switch to {@link IdentityPool}, which checks the label of
 * every connection UCP hands out, so fresh, warm and re-used connections go through one code path.
 */
final class IdentityLabels implements ConnectionLabelingCallback {
    static final String KEY = "proxyra.identity";
    /** The client identifier last set on the session; not part of the cost: any session can be re-tagged. */
    static final String CLIENT_KEY = "proxyra.client";
    private static final int FRESH = 1;
    private static final int SWITCH = 10;

    static Properties labelsFor(DbIdentity identity) {
        Properties labels = new Properties();
        labels.setProperty(KEY, valueFor(identity));
        return labels;
    }

    static String valueFor(DbIdentity identity) {
        return identity.isProxyAccount() ? "proxy-account" : "user:" + identity.label();
    }

    @Override
    public int cost(Properties requested, Properties current) {
        String want = requested == null ? null : requested.getProperty(KEY);
        String have = current == null ? null : current.getProperty(KEY);
        if (want != null && want.equals(have)) {
            return 0;
        }
        return have == null ? FRESH : SWITCH;
    }

    @Override
    public boolean configure(Properties requested, Object connection) {
        return true;
    }
}
