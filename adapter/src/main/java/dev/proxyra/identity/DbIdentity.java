package dev.proxyra.identity;

import java.util.List;
import java.util.Objects;

/**
 * The database identity a physical connection runs as: a database user (PostgreSQL role, Oracle
 * user) reached through the proxy account, or the proxy account itself. Immutable; the pool labels
 * physical connections with {@link #label()}.
 *
 * @param databaseUser the validated database user name, or null for the proxy account itself
 * @param caller       the caller's principal name as resolved (for messages and audit), may be null
 * @param password     a password to send with an Oracle proxy session (explicit user only), else null
 * @param roles        Oracle roles to enable in the proxy session (RoleMap), sorted; empty: default roles
 * @param metadataOnly the proxy account's session for a request without a caller that may read database metadata
 *                     and run nothing (UnauthenticatedAccess=METADATA_ONLY)
 * @param component    the names of the requesting component, which the Oracle dialect sets as MODULE and ACTION
 *                     (EndToEndTags=APPLICATION); null: proxyra sets neither. Not part of the label nor of
 *                     {@link #sameSession}: a warm session of a caller stays warm across applications.
 */
public record DbIdentity(String databaseUser, String caller, String password, List<String> roles, boolean metadataOnly,
        ComponentNames component) {

    /** The proxy account's own session: only with UnauthenticatedAccess=PROXY_USER. */
    public static final DbIdentity PROXY_ACCOUNT = new DbIdentity(null, null, null, List.of());

    /** The proxy account's session, metadata only: UnauthenticatedAccess=METADATA_ONLY. */
    public static final DbIdentity METADATA_ONLY = new DbIdentity(null, null, null, List.of(), true);

    public DbIdentity {
        roles = roles == null ? List.of() : roles.stream().sorted().distinct().toList();
        if (metadataOnly && databaseUser != null) {
            throw new IllegalArgumentException("only the proxy account's session can be metadata only");
        }
    }

    public DbIdentity(String databaseUser, String caller, String password, List<String> roles, boolean metadataOnly) {
        this(databaseUser, caller, password, roles, metadataOnly, null);
    }

    public DbIdentity(String databaseUser, String caller, String password, List<String> roles) {
        this(databaseUser, caller, password, roles, false);
    }

    public DbIdentity(String databaseUser, String caller, String password) {
        this(databaseUser, caller, password, List.of());
    }

    public static DbIdentity of(String databaseUser, String caller) {
        return new DbIdentity(Objects.requireNonNull(databaseUser), caller, null);
    }

    public DbIdentity withPassword(String newPassword) {
        return new DbIdentity(databaseUser, caller, newPassword, roles, metadataOnly, component);
    }

    /** This identity, asked for by the component {@code names} name (null: no end-to-end tags). */
    public DbIdentity withComponent(ComponentNames names) {
        return new DbIdentity(databaseUser, caller, password, roles, metadataOnly, names);
    }

    public boolean isProxyAccount() {
        return databaseUser == null;
    }

    /** The database user with its enabled roles, as messages show it. */
    public String label() {
        if (databaseUser == null) {
            return "";
        }
        return roles.isEmpty() ? databaseUser : databaseUser + " roles=" + String.join(",", roles);
    }

    /**
     * Whether a warm session of {@code other} may serve this identity as it is: the same user with the same enabled
     * roles, for the same caller (what one caller's SQL left on a session is never another caller's, even when both
     * have one database user).
     */
    public boolean sameSession(DbIdentity other) {
        return other != null && Objects.equals(databaseUser, other.databaseUser) && roles.equals(other.roles)
                && Objects.equals(caller, other.caller);
    }

    @Override
    public String toString() {
        return isProxyAccount() ? (metadataOnly ? "DbIdentity[proxy account, metadata only]" : "DbIdentity[proxy account]")
                : "DbIdentity[" + label() + (caller != null && !caller.equals(databaseUser) ? " for " + caller : "")
                        + (password != null ? ", password=***" : "") + "]";
    }
}
