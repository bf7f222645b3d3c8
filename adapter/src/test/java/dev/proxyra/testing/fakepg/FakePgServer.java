package dev.proxyra.testing.fakepg;

import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

/**
 * The "server" behind {@link FakePgDataSource}: its backends (one per physical connection), the statements they ran,
 * and the faults a test scripts. UCP creates the data source by class name, so a test reaches its server through the
 * URL: {@link #start()} registers a server under a URL of its own, and every connection opened with that URL belongs
 * to it. A URL nobody registered (the benchmarks') gets a shared server that records nothing, so a benchmark neither
 * grows a log nor pays for one.
 *
 * <p>Faults, each answered as PostgreSQL through pgjdbc answers it:
 * <ul>
 * <li>{@link #refuseRole}, {@link #refuseNextSetRole}: {@code SET ROLE} fails with 42501 "permission denied to set
 * role" (the proxy role is not a member); {@link #missingRole}: 22023 "role ... does not exist".</li>
 * <li>{@link Fault#CONNECTION_LOST}: 08006 "An I/O error occurred while sending to the backend", and the connection
 * is closed from then on (pgjdbc closes it on an I/O error).</li>
 * <li>{@link Fault#TERMINATED}: 57P01 "terminating connection due to administrator command" (pg_terminate_backend),
 * closed afterwards; {@link Backend#kill()} does that to a backend at its next statement and makes
 * {@code isValid} answer false (unless {@link #validateLocally()}).</li>
 * <li>{@link Fault#STATEMENT_TIMEOUT}: 57014 "canceling statement due to statement timeout", a non-fatal error.</li>
 * <li>{@link Backend#escapeTo}: the backend's role changes without any SQL proxyra sees (as a function that runs
 * {@code EXECUTE 'SET ROLE ...'} would): {@code current_user} then answers that role.</li>
 * <li>{@link #alterProxyRoleSet}: {@code ALTER ROLE <proxy> SET name = value}: every later login gets it (a default
 * {@code role} makes the new backend's current_user that role), and proxyra's login-defaults query and its
 * proxy-account check report it.</li>
 * </ul>
 * Several statements in one {@code execute} (what proxyra's switch sends) run as one implicit transaction, as
 * PostgreSQL runs a pipeline: when one fails, the role the earlier ones set is undone and the later ones do not run.
 * Inside an explicit transaction an error aborts it (25P02 until it ends) and ROLLBACK undoes the role set in it.
 *
 * <p>Where it still differs from a real server: settings other than the role are not kept (RESET ALL, DISCARD and
 * UNLISTEN only succeed; SHOW, temporary tables, prepared statements, LISTEN and advisory locks do not exist, so the
 * reset's last statement always answers "none prepared, no temporary schema"); any other SELECT answers one row
 * holding current_user (two columns, current_user and session_user, when it names session_user); the proxy-account
 * check finds nothing wrong but role defaults; role membership is "every role but those refused"; SET ROLE NONE and
 * RESET ROLE are the only role statements besides SET ROLE (no SET SESSION AUTHORIZATION, no set_config except the
 * benchmarks' prepared {@code set_config('role', ?, false)}); no network, so no timeouts, and cancelQuery is a no-op;
 * the server-side prepared statement pgjdbc makes after prepareThreshold uses is not modelled; an error on a
 * statement fails it at once (a real server would also report it at the pipeline's end).
 */
public final class FakePgServer implements AutoCloseable {
    private static final Map<String, FakePgServer> BY_URL = new ConcurrentHashMap<>();
    private static final AtomicInteger SERVERS = new AtomicInteger();
    private static final FakePgServer UNREGISTERED = new FakePgServer(null, false);

    /** A non-fatal or fatal error a scripted statement fails with. */
    public enum Fault {
        /** 08006: the connection to the backend broke; pgjdbc closes the connection. */
        CONNECTION_LOST("08006", "An I/O error occurred while sending to the backend.", true),
        /** 57P01: pg_terminate_backend; the backend is gone. */
        TERMINATED("57P01", "FATAL: terminating connection due to administrator command", true),
        /** 57014: a statement_timeout ran out; the session is usable afterwards. */
        STATEMENT_TIMEOUT("57014", "ERROR: canceling statement due to statement timeout", false);

        final String sqlState;
        final String message;
        final boolean closes;

        Fault(String sqlState, String message, boolean closes) {
            this.sqlState = sqlState;
            this.message = message;
            this.closes = closes;
        }
    }

    private record Scripted(Predicate<String> statement, Fault fault, boolean once) {
    }

    private final String url;
    private final boolean recording;
    private final String proxyRole = "app_proxy";
    private final AtomicInteger pids = new AtomicInteger(1000);
    private final List<Backend> backends = new ArrayList<>();
    private final List<String> log = new ArrayList<>();
    private final Set<String> refusedRoles = ConcurrentHashMap.newKeySet();
    private final Set<String> missingRoles = ConcurrentHashMap.newKeySet();
    private final Map<String, String> proxyRoleDefaults = new LinkedHashMap<>();
    private final List<Scripted> scripted = new ArrayList<>();
    private int refuseNextSetRole;
    private volatile boolean validatesLocally;
    /** Whether anything is scripted: the benchmarks' statements only read this. */
    private volatile boolean faulty;

    private FakePgServer(String url, boolean recording) {
        this.url = url;
        this.recording = recording;
    }

    /** A new server with a URL of its own, recording every statement. Close it to unregister it. */
    public static FakePgServer start() {
        String url = "jdbc:postgresql://fake.invalid:5432/db" + SERVERS.incrementAndGet();
        FakePgServer server = new FakePgServer(url, true);
        BY_URL.put(url, server);
        return server;
    }

    static FakePgServer at(String url) {
        FakePgServer s = url == null ? null : BY_URL.get(url);
        return s != null ? s : UNREGISTERED;
    }

    public String url() {
        return url;
    }

    /** The login role of every backend (whatever user the pool logs in with). */
    public String proxyRole() {
        return proxyRole;
    }

    @Override
    public void close() {
        if (url != null) {
            BY_URL.remove(url);
        }
    }

    // ---- faults ----

    /** Every later SET ROLE {@code role} fails with 42501, as for a role the proxy role is not a member of. */
    public void refuseRole(String role) {
        refusedRoles.add(role);
        faulty = true;
    }

    /** SET ROLE {@code role} fails with 22023, as for a role that does not exist. */
    public void missingRole(String role) {
        missingRoles.add(role);
        faulty = true;
    }

    /** The next SET ROLE to a role other than NONE fails with 42501. */
    public synchronized void refuseNextSetRole() {
        refuseNextSetRole++;
        faulty = true;
    }

    /** The next statement, on any backend, that starts with {@code prefix} (case-insensitive) fails with {@code fault}. */
    public synchronized void failNext(String prefix, Fault fault) {
        scripted.add(new Scripted(startsWith(prefix), fault, true));
        faulty = true;
    }

    /** Every statement from now on that starts with {@code prefix} fails with {@code fault}; "" is every statement. */
    public synchronized void failEvery(String prefix, Fault fault) {
        scripted.add(new Scripted(startsWith(prefix), fault, false));
        faulty = true;
    }

    /** Removes every scripted statement failure. */
    public synchronized void healed() {
        scripted.clear();
    }

    private static Predicate<String> startsWith(String prefix) {
        String p = prefix.toLowerCase(Locale.ROOT);
        return lower -> lower.startsWith(p);
    }

    /**
     * {@code isValid} answers from the connection's local state, as proxyra's own PostgresDataSource answers UCP
     * (LocallyValidatedConnection): a killed backend then goes unnoticed until a statement reaches it. Without this,
     * isValid is pgjdbc's round trip, and UCP, which asks every non-Oracle connection it lends whatever
     * ValidateConnectionOnBorrow says, replaces a killed idle backend before proxyra sees it.
     */
    public void validateLocally() {
        validatesLocally = true;
    }

    boolean validatesLocally() {
        return validatesLocally;
    }

    /** ALTER ROLE of the proxy role SET {@code name} = {@code value}: applies to every later login. */
    public synchronized void alterProxyRoleSet(String name, String value) {
        proxyRoleDefaults.put(name.toLowerCase(Locale.ROOT), value);
    }

    /** ALTER ROLE of the proxy role RESET {@code name}. */
    public synchronized void alterProxyRoleReset(String name) {
        proxyRoleDefaults.remove(name.toLowerCase(Locale.ROOT));
    }

    // ---- what a test reads ----

    /** Every backend a login made, in login order. */
    public synchronized List<Backend> backends() {
        return List.copyOf(backends);
    }

    /** Logins so far (including those of backends since closed). */
    public synchronized int logins() {
        return backends.size();
    }

    /** Backends whose connection is still open. */
    public synchronized long openBackends() {
        return backends.stream().filter(b -> !b.closed).count();
    }

    /** The backend with process id {@code pid} (what {@code select pg_backend_pid()} answers). */
    public synchronized Backend backend(int pid) {
        for (Backend b : backends) {
            if (b.pid == pid) {
                return b;
            }
        }
        throw new IllegalArgumentException("no backend " + pid);
    }

    /** Every statement that reached a backend, as "pid: statement", in order. */
    public synchronized List<String> log() {
        return List.copyOf(log);
    }

    /** Whether any backend ran a statement containing {@code text} (case-insensitive). */
    public synchronized boolean saw(String text) {
        String t = text.toLowerCase(Locale.ROOT);
        return log.stream().anyMatch(s -> s.toLowerCase(Locale.ROOT).contains(t));
    }

    // ---- what the connections call ----

    synchronized Backend login(String user) {
        Backend b = new Backend(this, pids.incrementAndGet(), user);
        String roleDefault = proxyRoleDefaults.get("role");
        if (roleDefault != null) {
            b.loginRole = roleDefault;
            b.role = roleDefault;
        }
        if (recording) {
            backends.add(b);
        }
        return b;
    }

    /** Rows (name, fix) of proxyra's login-defaults query, as PostgreSQL answers it for this backend. */
    synchronized List<String[]> loginDefaults(Backend b) {
        List<String[]> rows = new ArrayList<>();
        for (Map.Entry<String, String> d : proxyRoleDefaults.entrySet()) {
            // pg_db_role_setting holds every default; pg_settings (source 'user') the ones the session took
            rows.add(new String[] {d.getKey(), "ALTER ROLE " + b.sessionUser + " RESET " + d.getKey()});
        }
        if (!b.currentUser().equals(b.sessionUser)) {
            rows.add(new String[] {"role", "ALTER ROLE " + b.sessionUser + " RESET role, or ALTER DATABASE postgres"
                    + " RESET role"});
        }
        rows.sort((x, y) -> x[0].equals(y[0]) ? x[1].compareTo(y[1]) : x[0].compareTo(y[0]));
        return rows;
    }

    /** Records a statement and throws the fault scripted for it, if any. */
    void reached(Backend b, String statement, String lower) throws SQLException {
        if (recording) {
            synchronized (this) {
                log.add(b.pid + ": " + statement);
                b.statements.add(statement);
            }
        }
        if (!faulty) {
            return;
        }
        Fault fault = null;
        synchronized (this) {
            for (int i = 0; i < scripted.size(); i++) {
                Scripted s = scripted.get(i);
                if (s.statement().test(lower)) {
                    fault = s.fault();
                    if (s.once()) {
                        scripted.remove(i);
                    }
                    break;
                }
            }
        }
        if (fault != null) {
            if (fault.closes) {
                b.closed = true;
            }
            throw new SQLException(fault.message, fault.sqlState);
        }
    }

    /** Throws what PostgreSQL answers to SET ROLE {@code role} by this server's proxy role, if it refuses. */
    void checkSetRole(String role) throws SQLException {
        if (!faulty) {
            return;
        }
        boolean refuse;
        synchronized (this) {
            refuse = refuseNextSetRole > 0;
            if (refuse) {
                refuseNextSetRole--;
            }
        }
        if (missingRoles.contains(role)) {
            throw new SQLException("ERROR: role \"" + role + "\" does not exist", "22023");
        }
        if (refuse || refusedRoles.contains(role)) {
            throw new SQLException("ERROR: permission denied to set role \"" + role + "\"", "42501");
        }
    }

    /** One backend process: the session of one physical connection. */
    public static final class Backend {
        final FakePgServer server;
        final int pid;
        final String sessionUser;
        /** The role a login default gave it: what RESET ROLE goes back to. Null: none. */
        volatile String loginRole;
        volatile String role;
        volatile boolean closed;
        volatile boolean killed;
        /** How many times the driver's isValid was asked (UCP's validation, proxyra's health check). */
        final AtomicInteger validations = new AtomicInteger();
        final List<String> statements = new ArrayList<>();

        Backend(FakePgServer server, int pid, String sessionUser) {
            this.server = server;
            this.pid = pid;
            this.sessionUser = sessionUser;
        }

        public int pid() {
            return pid;
        }

        public String currentUser() {
            String r = role;
            return r != null ? r : sessionUser;
        }

        public String sessionUser() {
            return sessionUser;
        }

        public boolean isClosed() {
            return closed;
        }

        /** How many times {@code isValid} was called on its connection. */
        public int validations() {
            return validations.get();
        }

        /** The statements this backend ran, in order. */
        public List<String> statements() {
            synchronized (server) {
                return List.copyOf(statements);
            }
        }

        /** The role changes as a function's {@code EXECUTE 'SET ROLE ...'} would change it: no SQL text shows it. */
        public void escapeTo(String role) {
            this.role = role;
        }

        /** pg_terminate_backend: isValid answers false, the next statement fails with 57P01, the connection closes. */
        public void kill() {
            killed = true;
        }

        @Override
        public String toString() {
            return "backend " + pid + " (" + currentUser() + (closed ? ", closed" : "") + ")";
        }
    }
}
