package dev.proxyra.testing;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

import oracle.jdbc.OracleConnection;

/**
 * A fake {@link OracleConnection} that records the proxy-session calls made on it and keeps the one
 * piece of state they change (whether a proxy session is open). Errors to raise on
 * {@code openProxySession} for a given user can be scripted with an Oracle vendor code.
 *
 * <p>As ojdbc 23.26 does (its bytecode read with javap): {@code openProxySession} checks PROXY_USER_NAME with
 * {@code LoginOption.pattern()} before any network call (ORA-17150, the session untouched; {@code A/X} is user A
 * with password X); a refused authentication ends in a logoff of the session then current, after which every call
 * that needs the server fails with ORA-01012 while {@code isUsable} and {@code isClosed} still say all is well;
 * {@code setClientInfo("OCSID.*")} past 64 chars fails with ORA-17159.
 *
 * <p>Client info and end-to-end metrics as ojdbc 23.26's {@code PhysicalConnection.setClientInfoInternal} handles
 * them: a name must match {@code namespace.name} (else 17253), the namespaces UCP, WLSGEN, WLSAGL, WLSMDS are
 * reserved (17276); in OCSID only ACTION, CLIENTID, ECID, MODULE, DBOP, CLIENT_INFO and SEQUENCE_NUMBER exist, each
 * at most 64 chars with a 12.1+ server (past it an SQLClientInfoException caused by ORA-17159); every failure is an
 * SQLClientInfoException. A value is kept by the driver, null over null changes nothing, anything else (the same
 * value again too) is marked to be sent, and MODULE marks ACTION as well; what is marked goes to the server with the
 * next round trip, piggybacked, never on a call of its own. {@link #serverEndToEnd()} is what the server then holds
 * (V$SESSION.MODULE, ACTION, CLIENT_IDENTIFIER), which SQL's DBMS_APPLICATION_INFO.SET_MODULE also changes, behind
 * the driver's record. What a new proxy session starts with on the server is not modelled: the fake keeps the values.
 */
public final class RecordingOracleConnection implements InvocationHandler {
    public final List<String> calls = new CopyOnWriteArrayList<>();
    private final Map<String, Integer> refusals = new ConcurrentHashMap<>();
    /** Client info as ojdbc keeps it: setClientInfo(Properties) replaces the whole set, as JDBC says. */
    private final Map<String, String> clientInfo = new ConcurrentHashMap<>();
    /** OCSID values set since the last round trip, to be piggybacked on the next one (null: cleared). */
    private final Map<String, java.util.Optional<String>> pendingEndToEnd = new ConcurrentHashMap<>();
    /** The driver's record of the OCSID values (endToEndValues). */
    private final Map<String, String> endToEnd = new ConcurrentHashMap<>();
    /** What the server holds for the session: CLIENTID, MODULE, ACTION as V$SESSION shows them. */
    private final Map<String, String> serverEndToEnd = new ConcurrentHashMap<>();
    private final java.util.concurrent.atomic.AtomicInteger roundTrips = new java.util.concurrent.atomic.AtomicInteger();
    private final java.util.concurrent.atomic.AtomicInteger piggybacked = new java.util.concurrent.atomic.AtomicInteger();
    private volatile String proxyUser;
    private volatile boolean closed;
    /** The driver logged off the connection's session (after a refused proxy authentication). */
    private volatile boolean loggedOff;
    private volatile boolean autoCommit = true;
    private volatile SQLException nextFailure;
    private volatile String nextFailingMethod;
    private volatile boolean transactionOpen;
    private final OracleConnection proxy;

    public RecordingOracleConnection() {
        proxy = (OracleConnection) Proxy.newProxyInstance(OracleConnection.class.getClassLoader(),
                new Class<?>[] {oracle.jdbc.internal.OracleConnection.class}, this);
    }

    public OracleConnection connection() {
        return proxy;
    }

    /** Runs inside every {@code openProxySession}, before it answers: something that happens meanwhile. */
    public volatile Runnable whileOpeningProxySession;

    /** {@code openProxySession} for {@code user} fails with ORA-{@code code}. */
    public void refuse(String user, int code) {
        refusals.put(user, code);
    }

    /** The client info the connection holds now (UCP's ORA$HA.* entries, OCSID.*). */
    public Map<String, String> clientInfo() {
        return Map.copyOf(clientInfo);
    }

    /** The end-to-end values the server holds (V$SESSION): CLIENTID, MODULE, ACTION; absent when empty. */
    public Map<String, String> serverEndToEnd() {
        return Map.copyOf(serverEndToEnd);
    }

    /** Calls that went to the server, each one network round trip as ojdbc makes it. */
    public int roundTrips() {
        return roundTrips.get();
    }

    /** Round trips that carried end-to-end values set since the one before. */
    public int piggybackedTags() {
        return piggybacked.get();
    }

    /** A call that goes to the server: it carries what setClientInfo marked, as ojdbc's piggyback list does. */
    private void roundTrip() {
        roundTrips.incrementAndGet();
        if (!pendingEndToEnd.isEmpty()) {
            piggybacked.incrementAndGet();
            for (String key : List.copyOf(pendingEndToEnd.keySet())) {
                java.util.Optional<String> value = pendingEndToEnd.remove(key);
                if (value.isEmpty() || value.get().isEmpty()) {
                    serverEndToEnd.remove(key);
                } else {
                    serverEndToEnd.put(key, value.get());
                }
            }
        }
    }

    /** {@code DBMS_APPLICATION_INFO.SET_MODULE('module', 'action')} in a block the fake executes. */
    private static final java.util.regex.Pattern SET_MODULE = java.util.regex.Pattern.compile(
            "dbms_application_info\\.set_module\\s*\\(\\s*'([^']*)'\\s*,\\s*'([^']*)'\\s*\\)",
            java.util.regex.Pattern.CASE_INSENSITIVE);

    private static final java.util.regex.Pattern CLIENT_INFO_NAME =
            java.util.regex.Pattern.compile("((\\w+)|(ORA\\$HA))\\.[a-zA-Z0-9_$]+");
    private static final java.util.Set<String> RESERVED = java.util.Set.of("UCP", "WLSGEN", "WLSAGL", "WLSMDS");
    private static final java.util.Set<String> OCSID_NAMES = java.util.Set.of("ACTION", "CLIENTID", "ECID", "MODULE",
            "DBOP", "CLIENT_INFO", "SEQUENCE_NUMBER");

    /** ojdbc's setClientInfoInternal for one name, see the class comment. */
    private void setClientInfo(String key, String value) throws java.sql.SQLClientInfoException {
        if (!CLIENT_INFO_NAME.matcher(key).matches()) {
            throw clientInfoFailure(key, new SQLException("ORA-17253: invalid name " + key, "99999", 17253));
        }
        String[] parts = key.split("\\.", 2);
        if (RESERVED.contains(parts[0])) {
            throw clientInfoFailure(key, new SQLException("ORA-17276: reserved namespace " + parts[0], "99999", 17276));
        }
        if (parts[0].equals("OCSID")) {
            if (!OCSID_NAMES.contains(parts[1])) {
                throw clientInfoFailure(key, new SQLException("ORA-17253: " + key, "99999", 17253));
            }
            if (value != null && value.length() > 64 && !parts[1].equals("SEQUENCE_NUMBER")) {
                calls.add("setClientInfo -> 17159");
                throw clientInfoFailure(key, new SQLException("ORA-17159: metric value too long for " + key, "99999", 17159));
            }
            if (!(value == null && endToEnd.get(parts[1]) == null)) {
                if (value == null) {
                    endToEnd.remove(parts[1]);
                } else {
                    endToEnd.put(parts[1], value);
                }
                pendingEndToEnd.put(parts[1], java.util.Optional.ofNullable(value));
                if (parts[1].equals("MODULE")) {
                    pendingEndToEnd.put("ACTION", java.util.Optional.ofNullable(endToEnd.get("ACTION")));
                }
            }
        }
        if (value == null) {
            clientInfo.remove(key);
        } else {
            clientInfo.put(key, value);
        }
    }

    private static java.sql.SQLClientInfoException clientInfoFailure(String key, SQLException cause) {
        return new java.sql.SQLClientInfoException(cause.getMessage(), cause.getSQLState(), cause.getErrorCode(),
                Map.of(key, java.sql.ClientInfoStatus.REASON_UNKNOWN), cause);
    }

    public String proxyUser() {
        return proxyUser;
    }

    public boolean isClosed() {
        return closed;
    }

    /** Whether a refused openProxySession left the connection without a session (every round trip fails). */
    public boolean isLoggedOff() {
        return loggedOff;
    }

    /** The calls that need the server: they fail with ORA-01012 once the session is logged off. */
    private static final java.util.Set<String> ROUND_TRIPS = java.util.Set.of("openProxySession", "commit", "rollback",
            "createStatement", "prepareStatement", "prepareCall", "pingDatabase", "setAutoCommit");

    /**
     * The connection's calls that make a network round trip in ojdbc (statements count theirs when they execute;
     * setAutoCommit only when it changes the mode, which commits; close(PROXY_SESSION) too).
     */
    private static final java.util.Set<String> NETWORK_CALLS = java.util.Set.of("openProxySession", "commit",
            "rollback", "pingDatabase", "isValid");

    /** As if SQL had begun a transaction that is still open (what ojdbc's inLocalTransaction reports). */
    public void openTransaction() {
        transactionOpen = true;
    }

    /**
     * The next call of {@code method} fails with {@code failure}; a recoverable one also kills the connection. Named,
     * because UCP's Oracle path makes calls of its own (unwrap, beginRequest, isUsable) between proxyra's.
     */
    public void failNext(String method, SQLException failure) {
        nextFailingMethod = method;
        nextFailure = failure;
    }

    @Override
    public Object invoke(Object self, Method method, Object[] args) throws Throwable {
        SQLException failure = nextFailure;
        if (failure != null && method.getName().equals(nextFailingMethod)) {
            nextFailure = null;
            calls.add(method.getName() + " -> " + failure.getErrorCode());
            if (failure instanceof java.sql.SQLRecoverableException) {
                closed = true;
            }
            throw failure;
        }
        boolean proxyClose = method.getName().equals("close") && args != null && args.length == 1;
        if (loggedOff && (ROUND_TRIPS.contains(method.getName()) || proxyClose)) {
            calls.add(method.getName() + " -> 1012");
            throw new SQLException("ORA-01012: not logged on", "72000", 1012);
        }
        if (NETWORK_CALLS.contains(method.getName()) || proxyClose
                || (method.getName().equals("setAutoCommit") && !args[0].equals(autoCommit))) {
            roundTrip();
        }
        switch (method.getName()) {
            case "isValid":
                if (loggedOff) {
                    calls.add("isValid");
                    return false;
                }
                calls.add("isValid");
                return !closed;
            case "isUsable":
                return !closed;
            case "getServerSessionInfo": {
                // what UCP's Oracle pooled connection reads when it wraps a new connection (initFailoverParameters)
                Properties info = new Properties();
                info.setProperty("INSTANCE_NAME", "FAKE1");
                info.setProperty("SERVER_HOST", "db.invalid");
                info.setProperty("SERVICE_NAME", "ERP");
                info.setProperty("DATABASE_NAME", "FAKEDB");
                info.setProperty("AUTH_SC_INSTANCE_START_TIME", "2026-01-01 00:00:00.000000000 +00:00");
                return info;
            }
            case "getVersionNumber":
                return (short) 23000;
            case "beginRequest":
            case "endRequest":
                calls.add(method.getName());
                return null;
            case "isClosed":
                return closed;
            case "pingDatabase":
                return closed ? OracleConnection.DATABASE_CLOSED : OracleConnection.DATABASE_OK;
            case "getAutoCommit":
                return autoCommit;
            case "setAutoCommit":
                autoCommit = (Boolean) args[0];
                calls.add("setAutoCommit(" + args[0] + ")");
                return null;
            case "isProxySession":
                return proxyUser != null;
            case "inLocalTransaction":
                return transactionOpen;
            case "rollback":
                calls.add("rollback");
                transactionOpen = false;
                return null;
            case "commit":
                calls.add("commit");
                transactionOpen = false;
                return null;
            case "createStatement":
                return statement();
            case "openProxySession": {
                Properties props = (Properties) args[1];
                String type = (Integer) args[0] == OracleConnection.PROXYTYPE_USER_NAME ? "PROXYTYPE_USER_NAME" : "type " + args[0];
                Map<String, String> shown = new TreeMap<>();
                props.forEach((k, v) -> shown.put((String) k, k.equals(OracleConnection.PROXY_USER_PASSWORD) ? "***"
                        : v instanceof String[] array ? java.util.Arrays.toString(array) : String.valueOf(v)));
                String call = "openProxySession(" + type + ", " + shown + ")";
                String user = props.getProperty(OracleConnection.PROXY_USER_NAME);
                java.util.regex.Matcher name = oracle.jdbc.driver.utils.LoginOption.pattern().matcher(user == null ? "" : user);
                if (user == null || user.isEmpty() || !name.lookingAt()
                        || (name.end() < user.length() && user.charAt(name.end()) != '/')) {
                    calls.add(call + " -> 17150");
                    throw new SQLException("ORA-17150: Unrecognized format for PROXY_USER_NAME", "99999", 17150);
                }
                if (name.end() < user.length()) {
                    user = user.substring(0, name.end()); // what follows the / is the password, to the driver
                }
                Integer code = refusals.get(user);
                calls.add(code == null ? call : call + " -> " + code);
                Runnable hook = whileOpeningProxySession;
                if (hook != null) {
                    hook.run();
                }
                if (code != null) {
                    // the driver's finally after a failed authentication: a logoff of the session then current
                    proxyUser = null;
                    loggedOff = true;
                    throw new SQLException(String.format("ORA-%05d: scripted refusal", code), "72000", code);
                }
                proxyUser = user;
                return null;
            }
            case "close":
                if (args != null && args.length == 1 && args[0] instanceof Integer mode) {
                    calls.add(mode == OracleConnection.PROXY_SESSION ? "close(PROXY_SESSION)" : "close(" + mode + ")");
                    if (mode == OracleConnection.PROXY_SESSION) {
                        proxyUser = null;
                    }
                } else {
                    calls.add("close()");
                    closed = true;
                }
                return null;
            case "setClientInfo":
                if (args[0] instanceof Properties props) {
                    // ojdbc: clears its client info, then sets each name; failures are gathered into one exception
                    new TreeMap<>(props).forEach((k, v) -> calls.add("setClientInfo(" + k + "=" + v + ")"));
                    clientInfo.clear();
                    Map<String, java.sql.ClientInfoStatus> failed = new java.util.HashMap<>();
                    for (String k : new java.util.TreeSet<>(props.stringPropertyNames())) {
                        try {
                            setClientInfo(k, props.getProperty(k));
                        } catch (java.sql.SQLClientInfoException e) {
                            failed.put(k, java.sql.ClientInfoStatus.REASON_UNKNOWN_PROPERTY);
                        }
                    }
                    if (!failed.isEmpty()) {
                        throw new java.sql.SQLClientInfoException("ORA-17253", failed);
                    }
                } else {
                    calls.add("setClientInfo(" + args[0] + "=" + args[1] + ")");
                    setClientInfo((String) args[0], (String) args[1]);
                }
                return null;
            case "getClientInfo":
                if (args == null || args.length == 0) {
                    Properties all = new Properties();
                    all.putAll(clientInfo);
                    return all;
                }
                return clientInfo.get((String) args[0]);
            case "unwrap":
                return self;
            case "isWrapperFor":
                return true;
            case "hashCode":
                return System.identityHashCode(self);
            case "equals":
                return self == args[0];
            case "toString":
                return "RecordingOracleConnection";
            default:
                calls.add(method.getName());
                return defaultValue(method.getReturnType());
        }
    }

    /** A Statement whose execute(sql) is recorded; ROLLBACK and COMMIT end the scripted transaction. */
    private java.sql.Statement statement() {
        return (java.sql.Statement) Proxy.newProxyInstance(java.sql.Statement.class.getClassLoader(),
                new Class<?>[] {java.sql.Statement.class}, (self, method, args) -> {
                    switch (method.getName()) {
                        case "execute" -> {
                            String sql = ((String) args[0]).trim();
                            calls.add("execute(" + sql + ")");
                            roundTrip();
                            java.util.regex.Matcher setModule = SET_MODULE.matcher(sql);
                            if (setModule.find()) {
                                // the server's record changes, the driver's does not
                                serverEndToEnd.put("MODULE", setModule.group(1));
                                serverEndToEnd.put("ACTION", setModule.group(2));
                            }
                            if (sql.equalsIgnoreCase("ROLLBACK") || sql.equalsIgnoreCase("COMMIT")) {
                                transactionOpen = false;
                            }
                            return false;
                        }
                        case "executeQuery" -> {
                            String sql = ((String) args[0]).trim();
                            calls.add("executeQuery(" + sql + ")");
                            roundTrip();
                            // UCP's start-up query on its Oracle path: 0, not a sharded database
                            return singleRow(0);
                        }
                        case "hashCode" -> {
                            return System.identityHashCode(self);
                        }
                        case "equals" -> {
                            return self == args[0];
                        }
                        default -> {
                            return defaultValue(method.getReturnType());
                        }
                    }
                });
    }

    /** A result set of one row whose every column is {@code value}. */
    private static java.sql.ResultSet singleRow(int value) {
        boolean[] before = {true};
        return (java.sql.ResultSet) Proxy.newProxyInstance(java.sql.ResultSet.class.getClassLoader(),
                new Class<?>[] {java.sql.ResultSet.class}, (self, method, args) -> switch (method.getName()) {
                    case "next" -> {
                        boolean had = before[0];
                        before[0] = false;
                        yield had;
                    }
                    case "getInt" -> value;
                    case "getLong" -> (long) value;
                    case "getString" -> Integer.toString(value);
                    case "hashCode" -> System.identityHashCode(self);
                    case "equals" -> self == args[0];
                    default -> defaultValue(method.getReturnType());
                });
    }

    private static Object defaultValue(Class<?> type) {
        if (!type.isPrimitive() || type == void.class) {
            return null;
        }
        if (type == boolean.class) {
            return Boolean.FALSE;
        }
        if (type == char.class) {
            return '\0';
        }
        return java.lang.reflect.Array.get(java.lang.reflect.Array.newInstance(type, 1), 0);
    }
}
