package dev.proxyra.config;

import java.util.List;

/**
 * Every user-facing configuration property: its public name (the JavaBean property of the managed
 * connection factory and the {@code config-property-name} in ra.xml), type, built-in default and
 * description. docs/configuration.md's reference table and ra.xml are checked against this table by the build.
 */
public enum Setting {
    URL(String.class, null, false,
            "JDBC URL of the database; the dialect is detected from it (jdbc:oracle:... or jdbc:postgresql:...). Required."),
    USER("User", String.class, null, false,
            "The proxy account the pool's physical connections log in as. When unset, the user of the"
                    + " PasswordCredential the server passes for this factory."),
    PASSWORD("Password", String.class, null, true,
            "Password of the proxy account. Prefer MicroProfile Config (key proxyra.Password, e.g. the"
                    + " environment variable PROXYRA_PASSWORD) over a pool property."),
    DIALECT("Dialect", String.class, "auto", false,
            "How identities are switched: oracle (proxy sessions), postgresql (SET ROLE) or auto (from the URL).",
            "auto", "oracle", "postgresql"),
    CONNECTION_FACTORY_CLASS_NAME("ConnectionFactoryClassName", String.class, null, false,
            "The javax.sql.DataSource class UCP opens physical connections with. Unset: oracle.jdbc.pool.OracleDataSource"
                    + " or dev.proxyra.dialect.PostgresDataSource (pgjdbc's PGSimpleDataSource, connecting without"
                    + " DriverManager, whose connections leave UCP's validation to proxyra's own round trip). Oracle:"
                    + " the replay factories oracle.jdbc.replay.* are refused (Application Continuity would replay"
                    + " work as the proxy account; see docs/oracle.md)."),
    INITIAL_POOL_SIZE("InitialPoolSize", Integer.class, "0", false,
            "Physical connections opened when the pool starts."),
    MIN_POOL_SIZE("MinPoolSize", Integer.class, "0", false,
            "Physical connections the pool keeps open at least."),
    MAX_POOL_SIZE("MaxPoolSize", Integer.class, "10", false,
            "Physical connections the pool opens at most, whatever the number of callers; under heavy contention UCP may briefly open one more."),
    CONNECTION_WAIT_TIMEOUT("ConnectionWaitTimeout", Integer.class, "10", false,
            "Seconds a request waits for a free physical connection before it fails (pool exhausted or database"
                    + " unreachable); at least 1 (with 0, UCP refuses every borrow that needs a new connection). In an XA"
                    + " pool it also bounds how long the commit or rollback of a prepared branch whose connection failed"
                    + " is tried again on other sessions (see docs/transactions.md)."),
    INACTIVE_CONNECTION_TIMEOUT("InactiveConnectionTimeout", Integer.class, "300", false,
            "Seconds an idle physical connection stays in the pool before it is closed (0: never)."),
    VALIDATE_CONNECTION_ON_BORROW("ValidateConnectionOnBorrow", Boolean.class, "true", false,
            "Check each physical connection before handing it out, so dead sessions are replaced transparently."
                    + " PostgreSQL: the identity check (IdentityCheck=VERIFY) or the switch is that check, at no extra"
                    + " round trip; only a warm borrow under IdentityCheck=SCAN sends the driver's isValid, and false"
                    + " spares it that round trip (a dead session then fails the request with a connection error)."),
    NETWORK_TIMEOUT("NetworkTimeout", Integer.class, "0", false,
            "Seconds a network read, connect or login may take before the driver gives up and the physical"
                    + " connection is discarded (0: no limit, except that on PostgreSQL the round trip with which a"
                    + " borrow checks a pooled session waits at most 15 s, as UCP's own validation would). Guards"
                    + " against a database that stops answering without closing the connection."),
    ABANDONED_CONNECTION_TIMEOUT("AbandonedConnectionTimeout", Integer.class, "0", false,
            "Seconds a borrowed physical connection may go unused before UCP reclaims it (0: never): a safety"
                    + " net for connections an application never closes."),
    LEAK_DETECTION("LeakDetection", Boolean.class, "false", false,
            "Treat a connection handle still open when its transaction ends as a leak: report it with the stack"
                    + " trace of where it was taken, and close it so the server reclaims the connection. Off: handles"
                    + " may span transactions, as JCA allows (one stack capture per getConnection when on)."),
    FAST_CONNECTION_FAILOVER_ENABLED("FastConnectionFailoverEnabled", Boolean.class, "false", false,
            "Oracle RAC and Data Guard: act on FAN events (instance down, planned maintenance, load advisories)"
                    + " received through ONS. Oracle only."),
    ONS_CONFIGURATION("ONSConfiguration", String.class, null, false,
            "Oracle: remote ONS daemons for FAN, e.g. nodes=racnode1:6200,racnode2:6200. Unset: configured"
                    + " automatically from the database (12c and later)."),
    CALLER_SOURCE("CallerSource", String.class, null, false,
            "Class name of a dev.proxyra.identity.CallerSource that names the caller; tried after an explicit user"
                    + " and before the server's own security API, Jakarta Security and the JACC Subject."),
    PRINCIPAL_PREFIX("PrincipalPrefix", String.class, null, false,
            "When set, only principals whose name starts with this prefix count as the caller, and the prefix is stripped."),
    PRINCIPAL_MAP("PrincipalMap", String.class, null, false,
            "Explicit caller-to-database-user map, e.g. alice=ALICE_DB,bob=BOB_DB; mapped names are used as written."),
    REQUIRE_PRINCIPAL_MAPPING("RequirePrincipalMapping", Boolean.class, "false", false,
            "When true, a caller that PrincipalMap does not name is refused instead of used under its own name."),
    PRINCIPAL_CASE("PrincipalCase", String.class, null, false,
            "Case applied to unmapped caller names: UPPER, LOWER or AS_IS, letter by letter; a name with a letter that"
                    + " would become another letter's case (KELVIN SIGN, dotless i, long s, titlecase letters) is refused."
                    + " Unset: UPPER for Oracle, AS_IS for PostgreSQL.",
            "UPPER", "LOWER", "AS_IS"),
    ROLE_MAP("RoleMap", String.class, null, false,
            "Oracle: container groups to database roles enabled in the caller's proxy session (PROXY_ROLES),"
                    + " e.g. managers=ERP_MANAGER,clerks=ERP_CLERK. Unset: the user's default roles."),
    CLIENT_IDENTIFIER("ClientIdentifier", Boolean.class, "true", false,
            "Tag each session with the caller's principal name, sent with the switch or the next call at no extra round"
                    + " trip. Oracle: its client identifier (CLIENT_IDENTIFIER in V$SESSION and the audit trail). PostgreSQL: its"
                    + " application_name (log_line_prefix %a, pg_stat_activity, pgaudit), printable ASCII as is and other"
                    + " characters %XX-encoded, at most 63 bytes (a longer name cut and marked with %~ and 8 hex digits of its"
                    + " SHA-256); set again on the next borrow when the application changed it."),
    END_TO_END_TAGS("EndToEndTags", String.class, "APPLICATION", false,
            "Oracle: what each borrow sets as the session's MODULE and ACTION (V$SESSION, ASH, DBMS_MONITOR), sent"
                    + " with the next call at no extra round trip. APPLICATION: the requesting component's Jakarta EE"
                    + " application name (java:app/AppName) as MODULE and its module name (java:module/ModuleName) as"
                    + " ACTION, each cut to 64 chars; empty without names (outside a container), so no earlier lending's"
                    + " stay. NONE: proxyra sets neither.",
            "APPLICATION", "NONE"),
    TRANSACTION_SUPPORT("TransactionSupportLevel", String.class, "LocalTransaction", false,
            "The transactions the server may enlist this pool's connections in, reported to it through"
                    + " jakarta.resource.spi.TransactionSupport: NoTransaction, LocalTransaction (one resource per"
                    + " transaction) or XATransaction (two-phase commit with other resources; each branch runs and is"
                    + " prepared as its caller, and recovery finishes it as its owner; PostgreSQL only, with"
                    + " max_prepared_transactions above 0; see docs/transactions.md).",
            "NoTransaction", "LocalTransaction", "XATransaction"),
    UNAUTHENTICATED_ACCESS("UnauthenticatedAccess", String.class, "DENY", false,
            "What a request without a resolvable caller gets: DENY (an SQLException, SQLState 28000), METADATA_ONLY (a"
                    + " connection that reads database metadata and runs no statement, refused with 28000: what a JPA"
                    + " provider needs to deploy a persistence unit) or PROXY_USER (a session as the proxy account itself).",
            "DENY", "METADATA_ONLY", "PROXY_USER"),
    ALLOW_EXPLICIT_USER("AllowExplicitUser", Boolean.class, "false", false,
            "Whether DataSource.getConnection(user, password) may name the database user explicitly."),
    IDENTITY_CHECK("IdentityCheck", String.class, "VERIFY", false,
            "PostgreSQL: how a role changed by application SQL is kept from the next borrower. VERIFY asks the"
                    + " database before a pooled session is reused (one round trip; none extra when the reuse switches"
                    + " identity); SCAN only inspects the application's SQL text: it saves that round trip but is not a"
                    + " security control (a role set inside a function or a DO block passes it).",
            "VERIFY", "SCAN"),
    ROLE_SETTINGS_CACHE_SECONDS("RoleSettingsCacheSeconds", Integer.class, "60", false,
            "PostgreSQL: seconds a role found without settings of its own (ALTER ROLE ... SET) is not asked again when"
                    + " a session switches to it, which spares the database the settings' catalogue query (about 200 µs"
                    + " of its CPU per switch): settings newly given to such a role apply within this time. 0: asked on"
                    + " every switch. A role with settings is asked on every switch, whatever this says."),
    ROLE_SWITCH("RoleSwitch", String.class, "SET_ROLE", false,
            "PostgreSQL: how a session becomes the caller. SET_ROLE: SET ROLE, which the caller's own SQL can undo"
                    + " within its lending (see the security model). SET_USER: the set_user extension's set_user(role,"
                    + " token), which blocks SET ROLE, RESET ROLE, SET SESSION AUTHORIZATION and set_config() until"
                    + " proxyra's reset_user(token); the pool refuses to start without the extension preloaded, created"
                    + " and executable by the proxy account. Not the default: set_user 4.0.1 crashes the server process"
                    + " on RESET ALL while switched, and DISCARD ALL still returns to the proxy account.",
            "SET_ROLE", "SET_USER"),
    POOL_NAME("PoolName", String.class, null, false,
            "The pool's name in JMX (dev.proxyra:type=Pool,name=PoolName) and in log lines: letters, digits and . _ - @,"
                    + " at most 64. Unset: the proxy account and the database of the URL, e.g. app_proxy@erp."),
    CONFIG_PREFIX("ConfigPrefix", String.class, "proxyra", false,
            "Prefix of the MicroProfile Config keys that supply properties not set on the pool: prefix.Property,"
                    + " e.g. proxyra.MaxPoolSize or the environment variable PROXYRA_MAXPOOLSIZE.");

    private final String propertyName;
    private final Class<?> type;
    private final String defaultValue;
    private final boolean secret;
    private final String description;
    private final List<String> allowedValues;

    Setting(Class<?> type, String defaultValue, boolean secret, String description, String... allowed) {
        this(null, type, defaultValue, secret, description, allowed);
    }

    Setting(String propertyName, Class<?> type, String defaultValue, boolean secret, String description,
            String... allowed) {
        this.propertyName = propertyName == null ? name() : propertyName;
        this.type = type;
        this.defaultValue = defaultValue;
        this.secret = secret;
        this.description = description;
        // a flag: true or false, matched ignoring case (ConfigResolver), and nothing else
        this.allowedValues = type == Boolean.class && allowed.length == 0 ? List.of("true", "false") : List.of(allowed);
    }

    /** The public property name, e.g. {@code MaxPoolSize}. */
    public String propertyName() {
        return propertyName;
    }

    /** {@code String}, {@code Integer} or {@code Boolean}: the kind of value, as the reference documents it. */
    public Class<?> type() {
        return type;
    }

    /**
     * The type of the factory's JavaBean property and of ra.xml's {@code config-property-type}: a flag is a
     * {@code String} that proxyra parses itself, accepting only true or false. Declared as {@code java.lang.Boolean},
     * the server would convert it first, as {@code Boolean.valueOf} does: {@code RequirePrincipalMapping=yes} would
     * arrive as false and fail open.
     */
    public Class<?> beanType() {
        return type == Boolean.class ? String.class : type;
    }

    /** The built-in default as text, or null when there is none. */
    public String defaultValue() {
        return defaultValue;
    }

    public boolean secret() {
        return secret;
    }

    public String description() {
        return description;
    }

    /** The allowed values of an enumerated property (matched ignoring case), or empty. */
    public List<String> allowedValues() {
        return allowedValues;
    }

    public static Setting byPropertyName(String name) {
        for (Setting s : values()) {
            if (s.propertyName.equals(name)) {
                return s;
            }
        }
        return null;
    }
}
