package dev.proxyra.config;

import java.util.Map;

/**
 * One factory's configuration after precedence and validation: immutable, safe to share, and the key
 * of the physical pool (equal configurations share one pool). {@link #toString()} never shows the password.
 */
public record ProxyraConfig(
        String url,
        String user,
        String password,
        DialectKind dialect,
        String connectionFactoryClassName,
        int initialPoolSize,
        int minPoolSize,
        int maxPoolSize,
        int connectionWaitTimeout,
        int inactiveConnectionTimeout,
        boolean validateConnectionOnBorrow,
        String callerSource,
        String principalPrefix,
        Map<String, String> principalMap,
        boolean requirePrincipalMapping,
        PrincipalCase principalCase,
        UnauthenticatedAccess unauthenticatedAccess,
        boolean allowExplicitUser,
        IdentityCheck identityCheck,
        String configPrefix) {

    public enum PrincipalCase { UPPER, LOWER, AS_IS }

    public enum UnauthenticatedAccess { DENY, PROXY_USER }

    public enum IdentityCheck { VERIFY, SCAN }

    public ProxyraConfig {
        principalMap = Map.copyOf(principalMap);
    }

    /** The same configuration with the proxy account taken from a server-supplied credential. */
    public ProxyraConfig withCredential(String credentialUser, String credentialPassword) {
        return new ProxyraConfig(url, user != null ? user : credentialUser,
                password != null ? password : credentialPassword, dialect, connectionFactoryClassName, initialPoolSize, minPoolSize,
                maxPoolSize, connectionWaitTimeout, inactiveConnectionTimeout, validateConnectionOnBorrow,
                callerSource, principalPrefix, principalMap, requirePrincipalMapping, principalCase,
                unauthenticatedAccess, allowExplicitUser, identityCheck, configPrefix);
    }

    @Override
    public String toString() {
        return "ProxyraConfig[url=" + Redact.url(url) + ", user=" + user
                + ", password=" + (password == null ? "<unset>" : "***")
                + ", dialect=" + dialect
                + (connectionFactoryClassName != null ? ", connectionFactoryClassName=" + connectionFactoryClassName : "")
                + ", pool=" + initialPoolSize + "/" + minPoolSize + "/" + maxPoolSize
                + ", connectionWaitTimeout=" + connectionWaitTimeout
                + ", inactiveConnectionTimeout=" + inactiveConnectionTimeout
                + ", validateConnectionOnBorrow=" + validateConnectionOnBorrow
                + ", callerSource=" + callerSource + ", principalPrefix=" + principalPrefix
                + ", principalMap=" + principalMap + ", requirePrincipalMapping=" + requirePrincipalMapping
                + ", principalCase=" + principalCase + ", unauthenticatedAccess=" + unauthenticatedAccess
                + ", allowExplicitUser=" + allowExplicitUser + ", identityCheck=" + identityCheck
                + ", configPrefix=" + configPrefix + "]";
    }
}
