package dev.proxyra.spi;

import java.io.PrintWriter;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

import javax.security.auth.Subject;

import jakarta.resource.ResourceException;
import jakarta.resource.spi.ConnectionManager;
import jakarta.resource.spi.ConnectionRequestInfo;
import jakarta.resource.spi.ManagedConnection;
import jakarta.resource.spi.ManagedConnectionFactory;
import jakarta.resource.spi.ResourceAdapter;
import jakarta.resource.spi.ResourceAdapterAssociation;
import jakarta.resource.spi.ResourceAdapterInternalException;
import jakarta.resource.spi.TransactionSupport;
import jakarta.resource.spi.security.PasswordCredential;

import dev.proxyra.config.ConfigResolver;
import dev.proxyra.config.ExternalConfig;
import dev.proxyra.config.InvalidConfigurationException;
import dev.proxyra.config.ProxyraConfig;
import dev.proxyra.config.Secret;
import dev.proxyra.config.Setting;
import dev.proxyra.identity.IdentityResolver;
import dev.proxyra.jdbc.ProxyraDataSource;
import dev.proxyra.pool.IdentityPool;
import dev.proxyra.pool.PoolRegistry;

/**
 * The connection factory configuration (a JavaBean whose properties are {@link Setting}) and the
 * factory of thin managed connections. Outside a server, {@link #createConnectionFactory()} gives a
 * working DataSource; {@link #close()} then closes its pool.
 */
public class ProxyraManagedConnectionFactory
        implements ProxyraDataSource.Factory, ResourceAdapterAssociation, TransactionSupport, AutoCloseable {
    private static final long serialVersionUID = 1L;
    private static final java.util.logging.Logger LOG =
            java.util.logging.Logger.getLogger(ProxyraManagedConnectionFactory.class.getName());

    private final EnumMap<Setting, Object> values = new EnumMap<>(Setting.class);
    private transient volatile ResourceAdapter resourceAdapter;
    private transient volatile PrintWriter logWriter;
    private transient volatile Resolved resolved;
    private transient PoolRegistry ownPools;
    private transient ExternalConfig externalConfig;

    /** The configuration as resolved once, with what is derived from it. */
    private record Resolved(ProxyraConfig config, IdentityResolver identities) {
    }

    // ---- JavaBean properties (public API: names are the Setting property names) ----

    public String getURL() { return (String) get(Setting.URL); }
    public void setURL(String value) { set(Setting.URL, value); }
    public String getUser() { return (String) get(Setting.USER); }
    public void setUser(String value) { set(Setting.USER, value); }
    public String getPassword() { return Secret.reveal((Secret) get(Setting.PASSWORD)); }
    public void setPassword(String value) { set(Setting.PASSWORD, Secret.of(value)); }
    public String getDialect() { return (String) get(Setting.DIALECT); }
    public void setDialect(String value) { set(Setting.DIALECT, value); }
    public String getConnectionFactoryClassName() { return (String) get(Setting.CONNECTION_FACTORY_CLASS_NAME); }
    public void setConnectionFactoryClassName(String value) { set(Setting.CONNECTION_FACTORY_CLASS_NAME, value); }
    public Integer getInitialPoolSize() { return (Integer) get(Setting.INITIAL_POOL_SIZE); }
    public void setInitialPoolSize(Integer value) { set(Setting.INITIAL_POOL_SIZE, value); }
    public Integer getMinPoolSize() { return (Integer) get(Setting.MIN_POOL_SIZE); }
    public void setMinPoolSize(Integer value) { set(Setting.MIN_POOL_SIZE, value); }
    public Integer getMaxPoolSize() { return (Integer) get(Setting.MAX_POOL_SIZE); }
    public void setMaxPoolSize(Integer value) { set(Setting.MAX_POOL_SIZE, value); }
    public Integer getConnectionWaitTimeout() { return (Integer) get(Setting.CONNECTION_WAIT_TIMEOUT); }
    public void setConnectionWaitTimeout(Integer value) { set(Setting.CONNECTION_WAIT_TIMEOUT, value); }
    public Integer getInactiveConnectionTimeout() { return (Integer) get(Setting.INACTIVE_CONNECTION_TIMEOUT); }
    public void setInactiveConnectionTimeout(Integer value) { set(Setting.INACTIVE_CONNECTION_TIMEOUT, value); }
    public String getValidateConnectionOnBorrow() { return (String) get(Setting.VALIDATE_CONNECTION_ON_BORROW); }
    public void setValidateConnectionOnBorrow(String value) { set(Setting.VALIDATE_CONNECTION_ON_BORROW, value); }
    public Integer getNetworkTimeout() { return (Integer) get(Setting.NETWORK_TIMEOUT); }
    public void setNetworkTimeout(Integer value) { set(Setting.NETWORK_TIMEOUT, value); }
    public Integer getAbandonedConnectionTimeout() { return (Integer) get(Setting.ABANDONED_CONNECTION_TIMEOUT); }
    public void setAbandonedConnectionTimeout(Integer value) { set(Setting.ABANDONED_CONNECTION_TIMEOUT, value); }
    public String getLeakDetection() { return (String) get(Setting.LEAK_DETECTION); }
    public void setLeakDetection(String value) { set(Setting.LEAK_DETECTION, value); }
    public String getFastConnectionFailoverEnabled() { return (String) get(Setting.FAST_CONNECTION_FAILOVER_ENABLED); }
    public void setFastConnectionFailoverEnabled(String value) { set(Setting.FAST_CONNECTION_FAILOVER_ENABLED, value); }
    public String getONSConfiguration() { return (String) get(Setting.ONS_CONFIGURATION); }
    public void setONSConfiguration(String value) { set(Setting.ONS_CONFIGURATION, value); }
    public String getRoleMap() { return (String) get(Setting.ROLE_MAP); }
    public void setRoleMap(String value) { set(Setting.ROLE_MAP, value); }
    public String getClientIdentifier() { return (String) get(Setting.CLIENT_IDENTIFIER); }
    public void setClientIdentifier(String value) { set(Setting.CLIENT_IDENTIFIER, value); }
    public Integer getRoleSettingsCacheSeconds() { return (Integer) get(Setting.ROLE_SETTINGS_CACHE_SECONDS); }
    public void setRoleSettingsCacheSeconds(Integer value) { set(Setting.ROLE_SETTINGS_CACHE_SECONDS, value); }
    public String getEndToEndTags() { return (String) get(Setting.END_TO_END_TAGS); }
    public void setEndToEndTags(String value) { set(Setting.END_TO_END_TAGS, value); }
    /**
     * TransactionSupportLevel: NoTransaction, LocalTransaction or XATransaction, what {@link #getTransactionSupport()}
     * reports. Not named TransactionSupport: that property's getter would be jakarta.resource.spi.TransactionSupport's
     * (it returns the level, not a String), and WildFly's archive validation refuses the rar for it (a config
     * property's getter must return its declared type), Payara looks for a setter of the getter's type, and
     * java.beans.Introspector (Open Liberty) sees no writable property.
     */
    public String getTransactionSupportLevel() { return (String) get(Setting.TRANSACTION_SUPPORT); }
    public void setTransactionSupportLevel(String value) { set(Setting.TRANSACTION_SUPPORT, value); }
    public String getCallerSource() { return (String) get(Setting.CALLER_SOURCE); }
    public void setCallerSource(String value) { set(Setting.CALLER_SOURCE, value); }
    public String getPrincipalPrefix() { return (String) get(Setting.PRINCIPAL_PREFIX); }
    public void setPrincipalPrefix(String value) { set(Setting.PRINCIPAL_PREFIX, value); }
    public String getPrincipalMap() { return (String) get(Setting.PRINCIPAL_MAP); }
    public void setPrincipalMap(String value) { set(Setting.PRINCIPAL_MAP, value); }
    public String getRequirePrincipalMapping() { return (String) get(Setting.REQUIRE_PRINCIPAL_MAPPING); }
    public void setRequirePrincipalMapping(String value) { set(Setting.REQUIRE_PRINCIPAL_MAPPING, value); }
    public String getPrincipalCase() { return (String) get(Setting.PRINCIPAL_CASE); }
    public void setPrincipalCase(String value) { set(Setting.PRINCIPAL_CASE, value); }
    public String getUnauthenticatedAccess() { return (String) get(Setting.UNAUTHENTICATED_ACCESS); }
    public void setUnauthenticatedAccess(String value) { set(Setting.UNAUTHENTICATED_ACCESS, value); }
    public String getAllowExplicitUser() { return (String) get(Setting.ALLOW_EXPLICIT_USER); }
    public void setAllowExplicitUser(String value) { set(Setting.ALLOW_EXPLICIT_USER, value); }
    public String getIdentityCheck() { return (String) get(Setting.IDENTITY_CHECK); }
    public void setIdentityCheck(String value) { set(Setting.IDENTITY_CHECK, value); }
    public String getRoleSwitch() { return (String) get(Setting.ROLE_SWITCH); }
    public void setRoleSwitch(String value) { set(Setting.ROLE_SWITCH, value); }
    public String getPoolName() { return (String) get(Setting.POOL_NAME); }
    public void setPoolName(String value) { set(Setting.POOL_NAME, value); }
    public String getConfigPrefix() { return (String) get(Setting.CONFIG_PREFIX); }
    public void setConfigPrefix(String value) { set(Setting.CONFIG_PREFIX, value); }

    private synchronized Object get(Setting s) {
        return values.get(s);
    }

    private void set(Setting s, Object value) {
        List<IdentityPool> previous;
        synchronized (this) {
            if (value == null) {
                values.remove(s);
            } else {
                values.put(s, value);
            }
            resolved = null;
            transactionSupport = null;
            previous = usedPools == null ? List.of() : usedPools;
            usedPools = null;
            defaultPool = null;
            credentialPool = null;
        }
        // The configuration changed: pools of the old one are retired once no other factory uses them.
        previous.forEach(p -> registry().release(p, this));
    }

    /** Replaces the MicroProfile Config lookup (tests, embedding). */
    public void setExternalConfig(ExternalConfig external) {
        synchronized (this) {
            this.externalConfig = external;
        }
        set(Setting.CONFIG_PREFIX, get(Setting.CONFIG_PREFIX));
    }

    // ---- configuration ----

    /** The effective configuration; resolved on first use, so bad values fail at deploy or first use. */
    public ProxyraConfig config() {
        return resolved().config();
    }

    @Override
    public jakarta.resource.spi.ConnectionRequestInfo requestFor(dev.proxyra.identity.DbIdentity identity) {
        return new IdentityRequest(identity);
    }

    @Override
    public IdentityResolver identityResolver() {
        return resolved().identities();
    }

    private Resolved resolved() {
        Resolved r = resolved;
        if (r == null) {
            synchronized (this) {
                r = resolved;
                if (r == null) {
                    ExternalConfig external = externalConfig != null ? externalConfig : ExternalConfig.microProfile();
                    ProxyraConfig config = ConfigResolver.resolve(new EnumMap<>(values), external);
                    r = new Resolved(config, new IdentityResolver(config));
                    resolved = r;
                }
            }
        }
        return r;
    }

    // ---- ManagedConnectionFactory ----

    @Override
    public Object createConnectionFactory(ConnectionManager manager) {
        // In a server the adapter owns the pools and closes them on undeploy; a factory not associated with it
        // yet opens its pool with the first request instead of one nobody would close.
        if (resourceAdapter instanceof ProxyraResourceAdapter) {
            openPool();
        }
        return new ProxyraDataSource(this, manager);
    }

    @Override
    public Object createConnectionFactory() {
        openPool();
        return new ProxyraDataSource(this, new NonManagedConnectionManager());
    }

    /**
     * Opens the pool (no physical connection yet: InitialPoolSize decides) as the server binds the DataSource, so that
     * its MBean is there before the first request, and a configuration that cannot work is reported at deployment.
     * A pool whose proxy account comes from the server's credential opens with the first request that brings it.
     */
    private void openPool() {
        try {
            // with the proxy account or its password left to the server's credential, the pool is the credential's
            if (config().user() != null && config().password() != null) {
                pool();
            }
        } catch (SQLException | RuntimeException e) {
            LOG.warning(() -> "proxyra: the pool cannot open yet; every request will be refused until this is"
                    + " corrected: " + e.getMessage());
        }
    }

    @Override
    public ManagedConnection createManagedConnection(Subject subject, ConnectionRequestInfo request)
            throws ResourceException {
        IdentityPool pool;
        try {
            pool = pool(subject);
        } catch (InvalidConfigurationException e) {
            throw new ResourceAdapterInternalException(e.getMessage(), e);
        } catch (SQLException e) {
            throw new ResourceAdapterInternalException(e.getMessage(), e);
        }
        return new ProxyraManagedConnection(this, pool);
    }

    @Override
    public ManagedConnection matchManagedConnections(Set connections, Subject subject, ConnectionRequestInfo request) {
        // Managed connections hold no physical connection while idle, so any usable one of ours serves, if it
        // belongs to the pool of this request's proxy account (the Subject's credential may name it).
        IdentityPool wanted;
        try {
            wanted = pool(subject);
        } catch (SQLException | RuntimeException e) {
            return null; // createManagedConnection reports the reason
        }
        for (Object candidate : connections) {
            if (candidate instanceof ProxyraManagedConnection mc && mc.pool() == wanted && this.equals(mc.factory())
                    && mc.isReusable()) {
                return mc;
            }
        }
        return null;
    }

    /**
     * The pool this factory has open (the one of requests without a server credential, else the last credential's),
     * or null; never opens one. Refusals decided before the pool are counted on it.
     */
    @Override
    public IdentityPool openedPool() {
        IdentityPool p = defaultPool;
        if (p != null && !p.isClosed()) {
            return p;
        }
        CredentialPool last = credentialPool;
        return last != null && !last.pool().isClosed() ? last.pool() : null;
    }

    /** Counts and logs (rate-limited) the refusals of requests that came before any pool of this factory opened. */
    @Override
    public dev.proxyra.monitoring.PoolMetrics metricsBeforeThePoolOpens() {
        dev.proxyra.monitoring.PoolMetrics m = metricsBeforeThePoolOpens;
        if (m == null) {
            synchronized (this) {
                m = metricsBeforeThePoolOpens;
                if (m == null) {
                    m = new dev.proxyra.monitoring.PoolMetrics("(not open yet)");
                    metricsBeforeThePoolOpens = m;
                }
            }
        }
        return m;
    }

    private transient volatile dev.proxyra.monitoring.PoolMetrics metricsBeforeThePoolOpens;

    /** The pool serving requests without a server-supplied credential (non-managed use, statistics). */
    public IdentityPool pool() throws SQLException {
        return pool(null);
    }

    /** The pool of requests that need no server credential (every non-managed borrow), once looked up. */
    private transient volatile IdentityPool defaultPool;
    /** The pool of the last server credential seen; the credential itself is not kept (it holds the password). */
    private transient volatile CredentialPool credentialPool;
    /** Every pool this factory took from the registry under its current configuration. */
    private transient List<IdentityPool> usedPools;

    private record CredentialPool(int credentialIdentity, String user, IdentityPool pool) {
    }

    private IdentityPool pool(Subject subject) throws SQLException {
        ProxyraConfig config = config();
        // A configured User and Password make the server's credential irrelevant.
        PasswordCredential credential = config.user() != null && config.password() != null ? null : credential(subject);
        if (credential == null) {
            IdentityPool p = defaultPool;
            if (p != null && !p.isClosed() && p.config() == config) {
                return p;
            }
            synchronized (this) {
                p = take(config, null, null);
                defaultPool = p;
                return p;
            }
        }
        CredentialPool last = credentialPool;
        if (last != null && last.credentialIdentity() == System.identityHashCode(credential)
                && last.user().equals(credential.getUserName()) && !last.pool().isClosed()
                && last.pool().config() == config && last.pool().passwordMatches(credential.getPassword())) {
            return last.pool();
        }
        char[] password = credential.getPassword();
        synchronized (this) {
            IdentityPool p = take(config, credential.getUserName(),
                    password == null || password.length == 0 ? null : Secret.of(new String(password)));
            credentialPool = new CredentialPool(System.identityHashCode(credential), credential.getUserName(), p);
            return p;
        }
    }

    /** Caller holds the lock. */
    private IdentityPool take(ProxyraConfig config, String credentialUser, Secret credentialPassword)
            throws SQLException {
        IdentityPool p = registry().poolFor(config, credentialUser, credentialPassword, this);
        if (usedPools == null) {
            usedPools = new ArrayList<>(1);
        }
        if (!usedPools.contains(p)) {
            usedPools.add(p);
        }
        return p;
    }

    private PasswordCredential credential(Subject subject) {
        if (subject == null) {
            return null;
        }
        for (PasswordCredential pc : subject.getPrivateCredentials(PasswordCredential.class)) {
            if (pc.getManagedConnectionFactory() == null || this.equals(pc.getManagedConnectionFactory())) {
                return pc;
            }
        }
        return null;
    }

    private PoolRegistry registry() {
        if (resourceAdapter instanceof ProxyraResourceAdapter ra) {
            return ra.pools();
        }
        synchronized (this) {
            if (ownPools == null) {
                ownPools = new PoolRegistry(false);
            }
            return ownPools;
        }
    }

    /** Closes the pools of a factory used without a resource adapter. In a server, stopping the adapter does this. */
    @Override
    public void close() {
        PoolRegistry own;
        synchronized (this) {
            own = ownPools;
            ownPools = null;
        }
        if (own != null) {
            own.close();
        }
    }

    /**
     * The TransactionSupportLevel property, read alone: servers ask while they register the pool, before anything else of
     * the configuration has to be valid (Payara breaks on null). A wrong value throws, naming the property and the
     * allowed values, so the pool is not registered with a level nobody chose.
     */
    @Override
    public TransactionSupportLevel getTransactionSupport() {
        TransactionSupportLevel level = transactionSupport;
        if (level != null) {
            return level;
        }
        ExternalConfig external;
        Map<Setting, Object> set;
        synchronized (this) {
            external = externalConfig != null ? externalConfig : ExternalConfig.microProfile();
            set = new EnumMap<>(values);
        }
        level = ConfigResolver.transactionSupport(set, external);
        synchronized (this) {
            if (values.equals(set)) {
                transactionSupport = level; // unless the configuration changed meanwhile
            }
        }
        return level;
    }

    /** getTransactionSupport's answer for the current configuration, once read; forgotten when a property changes. */
    private transient volatile TransactionSupportLevel transactionSupport;

    @Override
    public void setLogWriter(PrintWriter out) {
        this.logWriter = out;
    }

    @Override
    public PrintWriter getLogWriter() {
        return logWriter;
    }

    @Override
    public ResourceAdapter getResourceAdapter() {
        return resourceAdapter;
    }

    @Override
    public void setResourceAdapter(ResourceAdapter adapter) {
        this.resourceAdapter = adapter;
    }

    // Equal configurations are equal factories (JCA 2.1, 6.5.3.2): the property values decide.
    @Override
    public boolean equals(Object other) {
        if (this == other) {
            return true;
        }
        if (!(other instanceof ProxyraManagedConnectionFactory that) || other.getClass() != getClass()) {
            return false;
        }
        return snapshot().equals(that.snapshot());
    }

    @Override
    public int hashCode() {
        return Objects.hash(snapshot());
    }

    private synchronized Map<Setting, Object> snapshot() {
        return new EnumMap<>(values);
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("ProxyraManagedConnectionFactory[");
        snapshot().forEach((k, v) -> sb.append(k.propertyName()).append('=')
                .append(k.secret() ? "***" : k == Setting.URL ? dev.proxyra.config.Redact.url((String) v)
                        : k == Setting.ONS_CONFIGURATION ? dev.proxyra.config.Redact.settings((String) v) : v).append(", "));
        if (sb.charAt(sb.length() - 1) == ' ') {
            sb.setLength(sb.length() - 2);
        }
        return sb.append(']').toString();
    }
}
