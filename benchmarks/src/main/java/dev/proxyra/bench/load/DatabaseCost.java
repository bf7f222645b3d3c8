package dev.proxyra.bench.load;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

import dev.proxyra.bench.web.Orders;
import dev.proxyra.dialect.PostgresRole;
import dev.proxyra.identity.DbIdentity;

/**
 * What the database spends on one realistic request, and on what: the request on one connection, without
 * concurrency, after each kind of identity change proxyra can make (none, a bare {@code SET ROLE}, proxyra's own
 * switch with and without the check), against the shared account's. The backend's CPU time is read from /proc, so
 * the figures are the database's alone; the load test's CPU table says how much more the database works per
 * request under load, this says where it goes.
 */
final class DatabaseCost {
    /** One way to serve the request, and the database CPU it took per request. */
    record Line(String what, double backendMillis) {
    }

    private interface Step {
        void run(Connection c, int i) throws SQLException;
    }

    private static final int CALLERS = 10;
    private static final PostgresRole POSTGRES = new PostgresRole();

    private DatabaseCost() {
    }

    /** Each way {@code warmup} times unrecorded, then {@code requests} times measured; callers rotate over ten. */
    static List<Line> measure(String url, String password, int warmup, int requests) throws SQLException {
        List<Line> lines = new ArrayList<>();
        lines.add(run(url, LoadMain.SHARED_ACCOUNT, password, warmup, requests,
                "(2) the shared account: the application filters and stamps rows",
                (c, i) -> expect(Orders.order(kept(c), caller(i)), caller(i))));
        lines.add(run(url, "app_proxy", password, warmup, requests,
                "(1) proxyra, warm: the caller's own session, the check, row-level security",
                (c, i) -> {
                    if (i == 0) {
                        execute(c, "SET ROLE " + caller(0));
                    }
                    if (!POSTGRES.verify(c, identity(0))) {
                        throw new IllegalStateException("the probe's session does not run as " + caller(0));
                    }
                    request(c, 0);
                }));
        lines.add(run(url, "app_proxy", password, warmup, requests,
                "a bare SET ROLE to the next caller first (the floor of any switch)",
                (c, i) -> {
                    execute(c, "SET ROLE " + caller(i));
                    request(c, i);
                }));
        lines.add(run(url, "app_proxy", password, warmup, requests,
                "(1') proxyra's switch with IdentityCheck=SCAN: SET ROLE and the reset",
                (c, i) -> {
                    POSTGRES.changeIdentity(c, identity(i - 1), identity(i), false);
                    request(c, i);
                }));
        lines.add(run(url, "app_proxy", password, warmup, requests,
                "(1) proxyra's switch (IdentityCheck=VERIFY): the check, SET ROLE and the reset",
                (c, i) -> {
                    POSTGRES.changeIdentity(c, identity(i - 1), identity(i), true);
                    request(c, i);
                }));
        return lines;
    }

    private static Line run(String url, String user, String password, int warmup, int requests, String what, Step step)
            throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", user);
        p.setProperty("password", password);
        try (Connection c = new org.postgresql.Driver().connect(url, p)) {
            long pid;
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("select pg_backend_pid()")) {
                rs.next();
                pid = rs.getLong(1);
            }
            for (int i = 0; i < warmup; i++) {
                step.run(c, i);
            }
            long before = CpuMeter.ticks(pid, false);
            for (int i = warmup; i < warmup + requests; i++) {
                step.run(c, i);
            }
            long ticks = CpuMeter.ticks(pid, false) - before;
            return new Line(what, ticks * CpuMeter.NANOS_PER_TICK / 1e6 / requests);
        }
    }

    /**
     * The realistic request as the database knows the caller, then back to autocommit as proxyra leaves a session; the
     * row it added must be caller {@code i}'s, or the probe measured something else than it says.
     */
    private static void request(Connection c, int i) throws SQLException {
        expect(Orders.order(kept(c), null), caller(i));
        c.setAutoCommit(true);
    }

    private static void expect(String owner, String caller) {
        if (!caller.equals(owner)) {
            throw new IllegalStateException("the request ran as " + owner + ", not as " + caller);
        }
    }

    static String caller(int i) {
        return String.format("caller%03d", 1 + Math.floorMod(i, CALLERS));
    }

    private static DbIdentity identity(int i) {
        return DbIdentity.of(caller(i), caller(i));
    }

    private static void execute(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    /** The connection without its close: the request closes what it is given, the probe keeps its one session. */
    private static Connection kept(Connection c) {
        return (Connection) Proxy.newProxyInstance(Connection.class.getClassLoader(), new Class<?>[] {Connection.class},
                (proxy, method, args) -> {
                    if (method.getName().equals("close")) {
                        return null;
                    }
                    try {
                        return method.invoke(c, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }
}
