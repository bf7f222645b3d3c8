package dev.proxyra.config;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

import jakarta.resource.spi.TransactionSupport.TransactionSupportLevel;

/**
 * Merges the three sources of a factory's configuration, highest first: a value set on the pool
 * (admin console, asadmin, annotation), MicroProfile Config ({@code <ConfigPrefix>.<Property>}),
 * the built-in default. Then validates the result.
 *
 * <p>A value set on the pool always wins, even when it equals the default: an administrator who writes
 * {@code UnauthenticatedAccess=DENY} on a pool must not have it turned into something else by the
 * environment. Application servers pass ra.xml's {@code config-property-value}s to the factory as if an
 * administrator had set them; that is why ra.xml declares no values and states each default in its
 * description. An empty value counts as unset (consoles submit empty fields).
 */
public final class ConfigResolver {

    private ConfigResolver() {
    }

    public static ProxyraConfig resolve(Map<Setting, ?> setOnPool, ExternalConfig external) {
        Values v = new Values(setOnPool, external);
        String url = v.text(Setting.URL);
        if (url == null) {
            throw new InvalidConfigurationException("proxyra: property URL is required: set it on the pool or as "
                    + v.key(Setting.URL) + " in MicroProfile Config, e.g. jdbc:postgresql://host:5432/db or"
                    + " jdbc:oracle:thin:@//host:1521/service");
        }
        if (!url.startsWith("jdbc:")) {
            throw new InvalidConfigurationException("proxyra: invalid URL '" + Redact.url(url)
                    + "': expected a JDBC URL starting with jdbc:oracle: or jdbc:postgresql:");
        }
        DialectKind dialect = dialect(url, v.choice(Setting.DIALECT));

        int initial = v.count(Setting.INITIAL_POOL_SIZE, 0);
        int min = v.count(Setting.MIN_POOL_SIZE, 0);
        int max = v.count(Setting.MAX_POOL_SIZE, 1);
        if (min > max) {
            throw new InvalidConfigurationException("proxyra: invalid MinPoolSize " + min + " with MaxPoolSize "
                    + max + ": MinPoolSize must not exceed MaxPoolSize");
        }
        if (initial > max) {
            throw new InvalidConfigurationException("proxyra: invalid InitialPoolSize " + initial
                    + " with MaxPoolSize " + max + ": InitialPoolSize must not exceed MaxPoolSize");
        }
        if (dialect == DialectKind.ORACLE && transactionSupport(v) == TransactionSupportLevel.XATransaction) {
            // Oracle's XAResource joins every branch of one database (isSameRM by URL) and recovering another user's
            // branch needs FORCE ANY TRANSACTION: neither is built yet, so an XA pool on Oracle does not start.
            throw new InvalidConfigurationException("proxyra: TransactionSupportLevel XATransaction is not supported on"
                    + " Oracle yet: allowed values there are NoTransaction, LocalTransaction (see docs/transactions.md)");
        }
        String caseText = v.choice(Setting.PRINCIPAL_CASE);
        ProxyraConfig.PrincipalCase principalCase = caseText != null
                ? ProxyraConfig.PrincipalCase.valueOf(caseText)
                : dialect == DialectKind.ORACLE ? ProxyraConfig.PrincipalCase.UPPER : ProxyraConfig.PrincipalCase.AS_IS;

        return new ProxyraConfig(
                url,
                v.text(Setting.USER),
                v.secret(Setting.PASSWORD),
                dialect,
                connectionFactoryClassName(v.text(Setting.CONNECTION_FACTORY_CLASS_NAME)),
                initial, min, max,
                v.seconds(Setting.CONNECTION_WAIT_TIMEOUT, 1), // with 0, UCP 23.26 refuses every borrow that needs a new connection
                v.seconds(Setting.INACTIVE_CONNECTION_TIMEOUT, 0),
                v.flag(Setting.VALIDATE_CONNECTION_ON_BORROW),
                v.seconds(Setting.NETWORK_TIMEOUT, 0),
                v.seconds(Setting.ABANDONED_CONNECTION_TIMEOUT, 0),
                v.flag(Setting.LEAK_DETECTION),
                oracleOnly(dialect, Setting.FAST_CONNECTION_FAILOVER_ENABLED, v.flag(Setting.FAST_CONNECTION_FAILOVER_ENABLED)),
                oracleOnly(dialect, Setting.ONS_CONFIGURATION, v.text(Setting.ONS_CONFIGURATION)),
                v.text(Setting.CALLER_SOURCE),
                v.text(Setting.PRINCIPAL_PREFIX),
                principalMap(v.text(Setting.PRINCIPAL_MAP)),
                v.flag(Setting.REQUIRE_PRINCIPAL_MAPPING),
                principalCase,
                oracleOnly(dialect, Setting.ROLE_MAP, pairs(Setting.ROLE_MAP, v.text(Setting.ROLE_MAP), "GROUP=ROLE",
                        "managers=ERP_MANAGER,clerks=ERP_CLERK")),
                v.flag(Setting.CLIENT_IDENTIFIER),
                ProxyraConfig.EndToEndTags.valueOf(v.choice(Setting.END_TO_END_TAGS)),
                transactionSupport(v),
                ProxyraConfig.UnauthenticatedAccess.valueOf(v.choice(Setting.UNAUTHENTICATED_ACCESS)),
                v.flag(Setting.ALLOW_EXPLICIT_USER),
                ProxyraConfig.IdentityCheck.valueOf(v.choice(Setting.IDENTITY_CHECK)),
                roleSwitch(dialect, ProxyraConfig.RoleSwitch.valueOf(v.choice(Setting.ROLE_SWITCH))),
                v.seconds(Setting.ROLE_SETTINGS_CACHE_SECONDS, 0),
                poolName(v.text(Setting.POOL_NAME)),
                v.prefix);
    }

    /**
     * The TransactionSupportLevel property alone, as {@link #resolve} would read it: what the factory reports to the server,
     * which asks before anything else of the configuration needs to be valid. A wrong value throws, naming the
     * property and the allowed values.
     */
    public static TransactionSupportLevel transactionSupport(Map<Setting, ?> setOnPool, ExternalConfig external) {
        return transactionSupport(new Values(setOnPool, external));
    }

    private static TransactionSupportLevel transactionSupport(Values v) {
        String chosen = v.choice(Setting.TRANSACTION_SUPPORT);
        for (TransactionSupportLevel level : TransactionSupportLevel.values()) {
            if (level.name().equalsIgnoreCase(chosen)) {
                return level;
            }
        }
        throw new IllegalStateException("TransactionSupport " + chosen); // choice() accepts only the levels' names
    }

    /**
     * UCP opens physical connections with an instance of this class: one it cannot load or use would fail every
     * borrow with a message about the URL. Loaded as UCP loads it (the adapter's class loader, else the thread's),
     * not initialised.
     */
    private static String connectionFactoryClassName(String name) {
        if (name == null) {
            return null;
        }
        String expected = "expected a public javax.sql.DataSource, XADataSource or ConnectionPoolDataSource class with a"
                + " public no-argument constructor, e.g. oracle.jdbc.pool.OracleDataSource,"
                + " oracle.jdbc.replay.OracleDataSourceImpl or dev.proxyra.dialect.PostgresDataSource";
        Class<?> factory = null;
        for (ClassLoader loader : new ClassLoader[] {ConfigResolver.class.getClassLoader(),
                Thread.currentThread().getContextClassLoader()}) {
            try {
                factory = Class.forName(name, false, loader);
                break;
            } catch (ClassNotFoundException | LinkageError | IllegalArgumentException notThere) {
                // the other loader, or the refusal below
            }
        }
        String shown = name.replaceAll("\\p{Cntrl}", "?");
        if (factory == null) {
            throw new InvalidConfigurationException("proxyra: invalid ConnectionFactoryClassName '" + shown
                    + "': no such class can be loaded; " + expected);
        }
        boolean dataSource = javax.sql.DataSource.class.isAssignableFrom(factory)
                || javax.sql.XADataSource.class.isAssignableFrom(factory)
                || javax.sql.ConnectionPoolDataSource.class.isAssignableFrom(factory);
        boolean instantiable = java.lang.reflect.Modifier.isPublic(factory.getModifiers())
                && !factory.isInterface() && !java.lang.reflect.Modifier.isAbstract(factory.getModifiers());
        if (dataSource && instantiable) {
            try {
                instantiable = java.lang.reflect.Modifier.isPublic(factory.getConstructor().getModifiers());
            } catch (NoSuchMethodException | LinkageError | SecurityException e) {
                instantiable = false;
            }
        }
        if (!dataSource || !instantiable) {
            throw new InvalidConfigurationException("proxyra: invalid ConnectionFactoryClassName '" + shown + "': "
                    + (dataSource ? "it cannot be instantiated" : "not a data source") + "; " + expected);
        }
        return name;
    }

    private static final java.util.regex.Pattern POOL_NAME = java.util.regex.Pattern.compile("[A-Za-z0-9._@-]{1,64}");

    /** Safe in an ObjectName unquoted and in a metrics mapping (no ':', ',', '=', '/', quotes or spaces). */
    private static String poolName(String name) {
        if (name != null && !POOL_NAME.matcher(name).matches()) {
            throw new InvalidConfigurationException("proxyra: invalid PoolName '" + name.replaceAll("\\p{Cntrl}", "?")
                    + "': expected 1 to 64 letters, digits, '.', '_', '-' or '@'");
        }
        return name;
    }

    private static DialectKind dialect(String url, String configured) {
        DialectKind fromUrl = url.startsWith("jdbc:oracle:") ? DialectKind.ORACLE
                : url.startsWith("jdbc:postgresql:") ? DialectKind.POSTGRESQL : null;
        if ("AUTO".equals(configured)) {
            if (fromUrl == null) {
                throw new InvalidConfigurationException("proxyra: Dialect auto cannot recognise URL '"
                        + Redact.url(url) + "': expected jdbc:oracle:... or jdbc:postgresql:..., or set Dialect to"
                        + " oracle or postgresql");
            }
            return fromUrl;
        }
        DialectKind chosen = DialectKind.valueOf(configured);
        if (fromUrl != null && fromUrl != chosen) {
            throw new InvalidConfigurationException("proxyra: Dialect " + configured.toLowerCase(Locale.ROOT)
                    + " does not fit URL '" + Redact.url(url) + "', which is a "
                    + fromUrl.name().toLowerCase(Locale.ROOT) + " URL; allowed values: auto, oracle, postgresql");
        }
        return chosen;
    }

    /** set_user is a PostgreSQL extension: refused with any other dialect, so nobody relies on it there. */
    private static ProxyraConfig.RoleSwitch roleSwitch(DialectKind dialect, ProxyraConfig.RoleSwitch chosen) {
        if (chosen == ProxyraConfig.RoleSwitch.SET_USER && dialect != DialectKind.POSTGRESQL) {
            throw new InvalidConfigurationException("proxyra: RoleSwitch SET_USER applies to PostgreSQL only; remove it"
                    + " for a " + dialect.name().toLowerCase(Locale.ROOT) + " URL (allowed values: SET_ROLE, SET_USER)");
        }
        return chosen;
    }

    /** A value that only means something on Oracle: refused with any other dialect, so nobody relies on it there. */
    private static <T> T oracleOnly(DialectKind dialect, Setting s, T value) {
        boolean set = value != null && !Boolean.FALSE.equals(value) && !(value instanceof Map<?, ?> m && m.isEmpty());
        if (set && dialect != DialectKind.ORACLE) {
            throw new InvalidConfigurationException("proxyra: property " + s.propertyName()
                    + " applies to Oracle only; remove it for a " + dialect.name().toLowerCase(Locale.ROOT) + " URL");
        }
        return value;
    }

    /** Parses {@code alice=ALICE_DB, bob=BOB_DB}. */
    static Map<String, String> principalMap(String text) {
        return pairs(Setting.PRINCIPAL_MAP, text, "caller=DB_USER", "alice=ALICE_DB,bob=BOB_DB");
    }

    private static Map<String, String> pairs(Setting s, String text, String form, String example) {
        Map<String, String> map = new LinkedHashMap<>();
        if (text == null) {
            return map;
        }
        for (String entry : text.split(",")) {
            if (entry.isBlank()) {
                continue;
            }
            int eq = entry.indexOf('=');
            String caller = eq < 0 ? "" : entry.substring(0, eq).trim();
            String dbUser = eq < 0 ? "" : entry.substring(eq + 1).trim();
            if (caller.isEmpty() || dbUser.isEmpty()) {
                throw new InvalidConfigurationException("proxyra: invalid " + s.propertyName() + " entry '"
                        + entry.trim() + "': expected " + form + " pairs separated by commas, e.g. " + example);
            }
            if (map.put(caller, dbUser) != null) {
                throw new InvalidConfigurationException("proxyra: invalid " + s.propertyName() + ": '" + caller
                        + "' is mapped twice");
            }
        }
        return map;
    }

    /** The most seconds whose milliseconds fit an int. */
    static final int MAX_SECONDS = Integer.MAX_VALUE / 1000;

    /** Reads one setting through the precedence chain and converts it, with messages naming the property. */
    private static final class Values {
        private final Map<Setting, ?> pool;
        private final ExternalConfig external;
        private final String prefix;

        Values(Map<Setting, ?> pool, ExternalConfig external) {
            this.pool = pool;
            this.external = external;
            Object p = pool.get(Setting.CONFIG_PREFIX);
            String text = p == null ? null : p.toString().trim();
            this.prefix = text == null || text.isEmpty() ? Setting.CONFIG_PREFIX.defaultValue() : text;
        }

        String key(Setting s) {
            return prefix + "." + s.propertyName();
        }

        /** The raw text and where it came from, or null when no source has it. */
        private String[] raw(Setting s) {
            Object onPool = pool.get(s);
            if (onPool != null) {
                String text = onPool.toString().trim();
                if (!text.isEmpty()) {
                    return new String[] {text, "pool property " + s.propertyName()};
                }
            }
            String fromExternal = external(s);
            if (fromExternal != null) {
                return new String[] {fromExternal, "MicroProfile Config " + key(s)};
            }
            return s.defaultValue() == null ? null : new String[] {s.defaultValue(), "default"};
        }

        private String external(Setting s) {
            if (s == Setting.CONFIG_PREFIX) {
                return null; // the prefix itself decides where to look
            }
            return external.get(key(s)).map(String::trim).filter(t -> !t.isEmpty()).orElse(null);
        }

        /** A secret: the pool's (kept masked by the factory), else MicroProfile Config's; never shown. */
        Secret secret(Setting s) {
            Object onPool = pool.get(s);
            if (onPool instanceof Secret secret && !secret.reveal().isEmpty()) {
                return secret;
            }
            if (onPool instanceof String text && !text.isEmpty()) {
                return Secret.of(text);
            }
            String fromExternal = external.get(key(s)).filter(t -> !t.isEmpty()).orElse(null);
            return Secret.of(fromExternal);
        }

        String text(Setting s) {
            String[] r = raw(s);
            return r == null ? null : r[0];
        }

        String choice(Setting s) {
            String[] r = raw(s);
            if (r == null) {
                return null;
            }
            for (String allowed : s.allowedValues()) {
                if (allowed.equalsIgnoreCase(r[0])) {
                    return allowed.toUpperCase(Locale.ROOT);
                }
            }
            throw new InvalidConfigurationException("proxyra: invalid " + s.propertyName() + " '" + r[0] + "' (from "
                    + r[1] + "): allowed values are " + String.join(", ", s.allowedValues()));
        }

        int count(Setting s, int minimum) {
            return count(s, minimum, Integer.MAX_VALUE, " >= " + minimum);
        }

        private int count(Setting s, int minimum, int maximum, String range) {
            String[] r = raw(s);
            int value;
            try {
                value = Integer.parseInt(r[0]);
            } catch (NumberFormatException e) {
                value = Integer.MIN_VALUE;
            }
            if (value < minimum || value > maximum) {
                throw new InvalidConfigurationException("proxyra: invalid " + s.propertyName() + " '" + r[0]
                        + "' (from " + r[1] + "): expected a whole number" + range);
            }
            return value;
        }

        /**
         * A number of seconds: at most {@link #MAX_SECONDS}, so that the drivers' and UCP's milliseconds still fit an
         * int (pgjdbc reads NetworkTimeout=2147484 as a negative socket timeout and reports an invalid URL).
         */
        int seconds(Setting s, int minimum) {
            return count(s, minimum, MAX_SECONDS, " of seconds from " + minimum + " to " + MAX_SECONDS
                    + " (about 24 days: the drivers count it in milliseconds, in an int)");
        }

        boolean flag(Setting s) {
            String[] r = raw(s);
            if ("true".equalsIgnoreCase(r[0])) {
                return true;
            }
            if ("false".equalsIgnoreCase(r[0])) {
                return false;
            }
            throw new InvalidConfigurationException("proxyra: invalid " + s.propertyName() + " '" + r[0] + "' (from "
                    + r[1] + "): allowed values are true, false");
        }
    }
}
