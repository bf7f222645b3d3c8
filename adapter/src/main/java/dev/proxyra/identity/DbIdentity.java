package dev.proxyra.identity;

import java.util.Objects;

/**
 * The database identity a physical connection runs as: a database user (PostgreSQL role, Oracle
 * user) reached through the proxy account, or the proxy account itself. Immutable; the pool labels
 * physical connections with {@link #label()}.
 *
 * @param databaseUser the validated database user name, or null for the proxy account itself
 * @param caller       the caller's principal name as resolved (for messages and audit), may be null
 * @param password     a password to send with an Oracle proxy session (explicit user only), else null
 */
public record DbIdentity(String databaseUser, String caller, String password) {

    /** The proxy account's own session: only with UnauthenticatedAccess=PROXY_USER. */
    public static final DbIdentity PROXY_ACCOUNT = new DbIdentity(null, null, null);

    public static DbIdentity of(String databaseUser, String caller) {
        return new DbIdentity(Objects.requireNonNull(databaseUser), caller, null);
    }

    public boolean isProxyAccount() {
        return databaseUser == null;
    }

    /** The pool label value: equal labels mean interchangeable sessions. Empty for the proxy account. */
    public String label() {
        return databaseUser == null ? "" : databaseUser;
    }

    /** Two identities may share a warm session when they are the same database user. */
    public boolean sameSession(DbIdentity other) {
        return other != null && Objects.equals(databaseUser, other.databaseUser);
    }

    @Override
    public String toString() {
        return isProxyAccount() ? "DbIdentity[proxy account]"
                : "DbIdentity[" + databaseUser + (caller != null && !caller.equals(databaseUser) ? " for " + caller : "")
                        + (password != null ? ", password=***" : "") + "]";
    }
}
