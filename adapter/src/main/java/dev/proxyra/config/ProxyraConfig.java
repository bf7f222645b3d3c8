package dev.proxyra.config;

import java.util.Map;

/**
 * One factory's configuration after precedence and validation: immutable, safe to share, and the key
 * of the physical pool (equal configurations share one pool). {@link #toString()} never shows the password.
 */
public record ProxyraConfig(
        String url,
        String user,
        Secret password,
        DialectKind dialect,
        String connectionFactoryClassName,
        int initialPoolSize,
        int minPoolSize,
        int maxPoolSize,
        int connectionWaitTimeout,
        int inactiveConnectionTimeout,
        boolean validateConnectionOnBorrow,
        int networkTimeout,
        int abandonedConnectionTimeout,
        boolean leakDetection,
        boolean fastConnectionFailoverEnabled,
        String onsConfiguration,
        String callerSource,
        String principalPrefix,
        Map<String, String> principalMap,
        boolean requirePrincipalMapping,
        PrincipalCase principalCase,
        Map<String, String> roleMap,
        boolean clientIdentifier,
        EndToEndTags endToEndTags,
        jakarta.resource.spi.TransactionSupport.TransactionSupportLevel transactionSupport,
        UnauthenticatedAccess unauthenticatedAccess,
        boolean allowExplicitUser,
        IdentityCheck identityCheck,
        RoleSwitch roleSwitch,
        int roleSettingsCacheSeconds,
        String poolName,
        String configPrefix) {

    public enum PrincipalCase { UPPER, LOWER, AS_IS }

    public enum UnauthenticatedAccess { DENY, METADATA_ONLY, PROXY_USER }

    public enum IdentityCheck { VERIFY, SCAN }

    public enum RoleSwitch { SET_ROLE, SET_USER }

    public enum EndToEndTags { APPLICATION, NONE }

    public ProxyraConfig {
        principalMap = Map.copyOf(principalMap);
        roleMap = Map.copyOf(roleMap);
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
                + ", networkTimeout=" + networkTimeout + ", abandonedConnectionTimeout=" + abandonedConnectionTimeout
                + ", leakDetection=" + leakDetection + ", fastConnectionFailoverEnabled=" + fastConnectionFailoverEnabled
                + ", onsConfiguration=" + Redact.settings(onsConfiguration)
                + ", callerSource=" + callerSource + ", principalPrefix=" + principalPrefix
                + ", principalMap=" + principalMap + ", requirePrincipalMapping=" + requirePrincipalMapping
                + ", principalCase=" + principalCase + ", roleMap=" + roleMap + ", clientIdentifier=" + clientIdentifier
                + ", endToEndTags=" + endToEndTags + ", transactionSupport=" + transactionSupport
                + ", unauthenticatedAccess=" + unauthenticatedAccess
                + ", allowExplicitUser=" + allowExplicitUser + ", identityCheck=" + identityCheck
                + ", roleSwitch=" + roleSwitch + ", roleSettingsCacheSeconds=" + roleSettingsCacheSeconds
                + (poolName != null ? ", poolName=" + poolName : "") + ", configPrefix=" + configPrefix + "]";
    }
}
