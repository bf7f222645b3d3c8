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

    private record Way(String what, String user, Step step) {
    }

    private static List<Way> ways() {
        return List.of(
                new Way("(2) the shared account: the application filters and stamps rows", LoadMain.SHARED_ACCOUNT,
                        (c, i) -> {
                            expect(Orders.order(kept(c), caller(i)), caller(i));
                            c.setAutoCommit(true);
                        }),
                new Way("(1) proxyra, warm: the caller's own session, the check, row-level security", "app_proxy",
                        (c, i) -> {
                            if (!POSTGRES.verify(c, identity(0))) {
                                execute(c, "SET ROLE " + caller(0)); // the first request of the line
                            }
                            request(c, 0);
                        }),
                new Way("SET ROLE to the caller it already runs as, then the request (the statement alone)", "app_proxy",
                        (c, i) -> {
                            execute(c, "SET ROLE " + caller(0));
                            request(c, 0);
                        }),
                new Way("a bare SET ROLE to the next caller, then the request (the floor of any switch)", "app_proxy",
                        (c, i) -> {
                            execute(c, "SET ROLE " + caller(i));
                            request(c, i);
                        }),
                new Way("a bare SET ROLE to the next caller, then the request through a current_user view (planned"
                        + " once)", "app_proxy", (c, i) -> viewRequest(c, i, "bench_my_orders")),
                new Way("the same through a security_barrier current_user view", "app_proxy",
                        (c, i) -> viewRequest(c, i, "bench_my_orders_sb")),
                new Way("(1') proxyra's switch with IdentityCheck=SCAN: SET ROLE and the reset", "app_proxy",
                        (c, i) -> {
                            POSTGRES.changeIdentity(c, identity(i - 1), identity(i), false);
                            request(c, i);
                        }),
                new Way("(1) proxyra's switch (IdentityCheck=VERIFY): the check, SET ROLE and the reset", "app_proxy",
                        (c, i) -> {
                            if (i > 0 && !POSTGRES.changeIdentity(c, identity(i - 1), identity(i), true)) {
                                throw new IllegalStateException("the check found the session not running as " + caller(i - 1));
                            }
                            if (i == 0) {
                                execute(c, "SET ROLE " + caller(0)); // nothing to check yet
                            }
                            request(c, i);
                        }));
    }

    /**
     * Each way {@code warmup} times unrecorded, then {@code requests} times measured, in two passes, the second in the
     * reverse order (the table grows as they run); callers rotate over ten.
     */
    static List<Line> measure(String url, String password, int warmup, int requests) throws SQLException {
        List<Way> ways = ways();
        long[] ticks = new long[ways.size()];
        int half = Math.max(1, requests / 2);
        for (int pass = 0; pass < 2; pass++) {
            for (int k = 0; k < ways.size(); k++) {
                int w = pass == 0 ? k : ways.size() - 1 - k;
                ticks[w] += run(url, ways.get(w).user(), password, warmup / 2, half, ways.get(w).step());
            }
        }
        List<Line> lines = new ArrayList<>();
        for (int w = 0; w < ways.size(); w++) {
            lines.add(new Line(ways.get(w).what(), ticks[w] * CpuMeter.NANOS_PER_TICK / 1e6 / (2.0 * half)));
        }
        return lines;
    }

    /** The backend's CPU ticks over {@code requests} measured requests. */
    private static long run(String url, String user, String password, int warmup, int requests, Step step)
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
            return CpuMeter.ticks(pid, false) - before;
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

    /** A bare SET ROLE to caller {@code i}, then the request through {@code view} instead of the policy. */
    private static void viewRequest(Connection c, int i, String view) throws SQLException {
        execute(c, "SET ROLE " + caller(i));
        expect(Orders.orderThroughView(kept(c), view), caller(i));
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
