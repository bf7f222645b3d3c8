package dev.proxyra.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.logging.Level;
import java.util.logging.LogRecord;

import javax.management.MBeanAttributeInfo;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import javax.management.openmbean.CompositeData;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import dev.proxyra.jdbc.ProxyraDataSource;
import dev.proxyra.monitoring.Refusal;
import dev.proxyra.pool.PoolMonitor;
import dev.proxyra.spi.ProxyraManagedConnectionFactory;
import dev.proxyra.testing.Database;
import dev.proxyra.testing.Factories;
import dev.proxyra.testing.LogCapture;
import dev.proxyra.testing.PostgresExtension;
import dev.proxyra.testing.Sessions;
import dev.proxyra.testing.TestCallers;

/**
 * The pool's MBean, read through the platform MBean server as an operator's tool reads it: each outcome, refusal
 * reason and discard moves exactly its own counter; the MBean comes and goes with the pool; the health check needs
 * no caller and leaves the session it checks as it was; no attribute shows the password.
 */
@ExtendWith(PostgresExtension.class)
class PoolMonitoringTest {
    private static final MBeanServer JMX = ManagementFactory.getPlatformMBeanServer();
    private static final String[] REFUSALS = {"RefusalsNoCaller", "RefusalsNotMapped", "RefusalsNotAuthorized",
        "RefusalsPoolExhausted", "RefusalsDatabaseUnreachable", "RefusalsConfiguration"};
    private static final String[] OUTCOMES = {"BorrowsWarm", "BorrowsSwitched", "BorrowsNewPhysical"};
    private static final String[] DISCARDS = {"DiscardsFatalError", "DiscardsIdentityChanged", "DiscardsStateNotReset"};

    private final List<ProxyraManagedConnectionFactory> factories = new ArrayList<>();
    private LogCapture log;
    private Database db;

    @BeforeEach
    void setUp(Database db) {
        this.db = db;
        TestCallers.set(null);
        log = LogCapture.on("dev.proxyra", Level.INFO);
    }

    @AfterEach
    void tearDown() {
        TestCallers.set(null);
        factories.forEach(ProxyraManagedConnectionFactory::close);
        log.close();
    }

    private ProxyraManagedConnectionFactory factory(String poolName) {
        ProxyraManagedConnectionFactory mcf = Factories.on(db)
                .poolName(poolName)
                .maxPoolSize(1) // every borrow meets the same physical connection while it lives
                .waitTimeout(1)
                .build();
        factories.add(mcf);
        return mcf;
    }

    private static ObjectName name(String poolName) {
        return PoolMonitor.objectName(poolName);
    }

    private static Map<String, Long> counters(String poolName, String... attributes) throws Exception {
        Map<String, Long> values = new LinkedHashMap<>();
        for (String a : attributes) {
            values.put(a, ((Number) JMX.getAttribute(name(poolName), a)).longValue());
        }
        return values;
    }

    /** {@code expected} is 1 and every other counter of the group 0. */
    private static void onlyCounted(String poolName, String expected, String... group) throws Exception {
        Map<String, Long> want = new LinkedHashMap<>();
        for (String a : group) {
            want.put(a, a.equals(expected) ? 1L : 0L);
        }
        assertThat(counters(poolName, group)).as("counters of pool " + poolName).isEqualTo(want);
    }

    private static void use(ProxyraDataSource ds, String caller) throws SQLException {
        TestCallers.set(caller);
        try (Connection c = ds.getConnection()) {
            assertThat(Sessions.currentUser(c)).isEqualTo(caller);
        }
    }

    @Test
    void eachBorrowOutcomeMovesItsOwnCounter() throws Exception {
        ProxyraDataSource ds = Factories.dataSource(factory("outcomes"));
        use(ds, "alice");
        onlyCounted("outcomes", "BorrowsNewPhysical", OUTCOMES);
        use(ds, "alice");
        assertThat(counters("outcomes", OUTCOMES)).containsEntry("BorrowsWarm", 1L).containsEntry("BorrowsSwitched", 0L);
        use(ds, "bob");
        assertThat(counters("outcomes", OUTCOMES))
                .isEqualTo(Map.of("BorrowsWarm", 1L, "BorrowsSwitched", 1L, "BorrowsNewPhysical", 1L));

        assertThat(JMX.getAttribute(name("outcomes"), "BorrowTimeCount")).isEqualTo(3L);
        double p50 = (Double) JMX.getAttribute(name("outcomes"), "BorrowTimeP50Millis");
        double max = (Double) JMX.getAttribute(name("outcomes"), "BorrowTimeMaxMillis");
        double total = (Double) JMX.getAttribute(name("outcomes"), "BorrowTimeTotalMillis");
        assertThat(p50).isPositive().isLessThanOrEqualTo(max * 1.001);
        assertThat(total).isGreaterThanOrEqualTo(max);
        assertThat(JMX.getAttribute(name("outcomes"), "DistinctIdentities")).isEqualTo(2);
        assertThat(JMX.getAttribute(name("outcomes"), "PhysicalConnections")).isEqualTo(1);
        assertThat(JMX.getAttribute(name("outcomes"), "BorrowedConnections")).isEqualTo(0);
        assertThat(JMX.getAttribute(name("outcomes"), "PeakBorrowedConnections")).isEqualTo(1);
        assertThat(counters("outcomes", REFUSALS).values()).containsOnly(0L);
        assertThat(counters("outcomes", DISCARDS).values()).containsOnly(0L);
    }

    @Test
    void noCaller() throws Exception {
        ProxyraDataSource ds = Factories.dataSource(factory("no-caller"));
        assertRefused(ds, null, "RefusalsNoCaller", "no-caller");
    }

    /**
     * The attack: requests without a caller against a pool whose password the server's credential brings. A refused
     * request opens no pool (a pool without the password would report DOWN for good and take the name); the
     * refusals are still logged, rate-limited.
     */
    @Test
    void aRefusedRequestOpensNoPool() throws Exception {
        ProxyraManagedConnectionFactory mcf = factory("credential");
        mcf.setPassword(null); // the server's credential brings it
        ProxyraDataSource ds = Factories.dataSource(mcf);
        TestCallers.set(null);
        for (int i = 0; i < 20; i++) {
            assertThatThrownBy(ds::getConnection).isInstanceOfSatisfying(SQLException.class,
                    e -> assertThat(Refusal.of(e)).isEqualTo(Refusal.NO_CALLER));
        }
        assertThat(mcf.openedPool()).isNull();
        assertThat(JMX.isRegistered(name("credential"))).isFalse();
        assertThat(mcf.metricsBeforeThePoolOpens().refusals(Refusal.NO_CALLER)).isEqualTo(20);
        assertThat(log.records()).filteredOn(r -> r.getLevel() == Level.WARNING).hasSize(1);
        assertThat(log.records()).noneMatch(r -> r.getMessage().contains("started"));
    }

    @Test
    void notMapped() throws Exception {
        ProxyraManagedConnectionFactory mcf = factory("not-mapped");
        mcf.setPrincipalMap("alice=alice");
        mcf.setRequirePrincipalMapping("true");
        assertRefused(Factories.dataSource(mcf), "bob", "RefusalsNotMapped", "not-mapped");
    }

    @Test
    void aNameNoDatabaseUserCanHaveIsNotMappedEither() throws Exception {
        assertRefused(Factories.dataSource(factory("bad-name")), "al\u0000ice", "RefusalsNotMapped", "bad-name");
    }

    @Test
    void notAuthorizedInTheDatabase() throws Exception {
        assertRefused(Factories.dataSource(factory("not-authorized")), "mallory", "RefusalsNotAuthorized", "not-authorized");
    }

    @Test
    void theProxyAccountsOwnNameIsNotAuthorized() throws Exception {
        assertRefused(Factories.dataSource(factory("proxy-name")), Database.PROXY_USER, "RefusalsNotAuthorized",
                "proxy-name");
    }

    @Test
    void poolExhausted() throws Exception {
        ProxyraDataSource ds = Factories.dataSource(factory("exhausted"));
        TestCallers.set("alice");
        try (Connection held = ds.getConnection()) {
            assertRefused(ds, "bob", "RefusalsPoolExhausted", "exhausted");
            assertThat(JMX.getAttribute(name("exhausted"), "BorrowedConnections")).isEqualTo(1);
        }
    }

    @Test
    void databaseUnreachable() throws Exception {
        ProxyraManagedConnectionFactory mcf = factory("unreachable");
        mcf.setURL("jdbc:postgresql://127.0.0.1:" + closedPort() + "/postgres");
        assertRefused(Factories.dataSource(mcf), "alice", "RefusalsDatabaseUnreachable", "unreachable");
    }

    @Test
    void aProxyAccountThatCannotLogInIsConfiguration() throws Exception {
        ProxyraManagedConnectionFactory mcf = factory("wrong-account");
        mcf.setUser("no_such_account");
        assertRefused(Factories.dataSource(mcf), "alice", "RefusalsConfiguration", "wrong-account");
    }

    @Test
    void aCallerSourceThatCannotBeLoadedIsConfiguration() throws Exception {
        ProxyraManagedConnectionFactory mcf = factory("bad-source");
        mcf.setCallerSource("com.example.NoSuchSource");
        assertRefused(Factories.dataSource(mcf), "alice", "RefusalsConfiguration", "bad-source");
    }

    @Test
    void anExplicitUserWithoutAllowExplicitUserIsConfiguration() throws Exception {
        ProxyraDataSource ds = Factories.dataSource(factory("explicit"));
        assertThatThrownBy(() -> ds.getConnection("alice", null)).isInstanceOf(SQLException.class);
        onlyCounted("explicit", "RefusalsConfiguration", REFUSALS);
    }

    private void assertRefused(ProxyraDataSource ds, String caller, String counter, String poolName) throws Exception {
        TestCallers.set(caller);
        Map<String, Long> borrowsBefore = JMX.isRegistered(name(poolName)) ? counters(poolName, OUTCOMES) : null;
        assertThatThrownBy(ds::getConnection).isInstanceOfSatisfying(SQLException.class,
                e -> assertThat(Refusal.of(e)).as("reason of " + e.getMessage()).isNotNull());
        onlyCounted(poolName, counter, REFUSALS);
        Map<String, Long> borrowsAfter = counters(poolName, OUTCOMES);
        if (borrowsBefore == null) {
            assertThat(borrowsAfter.values()).containsOnly(0L);
        } else {
            assertThat(borrowsAfter).isEqualTo(borrowsBefore);
        }
    }

    @Test
    void aSessionTheDatabaseKilledIsDiscardedAsAFatalError() throws Exception {
        ProxyraDataSource ds = Factories.dataSource(factory("fatal"));
        TestCallers.set("alice");
        try (Connection c = ds.getConnection()) {
            db.execute("select pg_terminate_backend(" + Sessions.backendPid(c) + ")");
            assertThatThrownBy(() -> Sessions.currentUser(c)).isInstanceOf(SQLException.class);
        }
        onlyCounted("fatal", "DiscardsFatalError", DISCARDS);
        use(ds, "alice");
    }

    @Test
    void aSessionWhoseRoleTheApplicationChangedIsDiscardedAsIdentityChanged() throws Exception {
        ProxyraDataSource ds = Factories.dataSource(factory("escaped"));
        TestCallers.set("alice");
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            s.execute("SET ROLE bob");
        }
        onlyCounted("escaped", "DiscardsIdentityChanged", DISCARDS);
        use(ds, "alice");
    }

    @Test
    void theMBeanComesWithThePoolAndGoesWithIt() throws Exception {
        ProxyraManagedConnectionFactory mcf = factory("lifecycle");
        ProxyraDataSource ds = Factories.dataSource(mcf);
        use(ds, "alice");
        assertThat(JMX.isRegistered(name("lifecycle"))).isTrue();
        assertThat(JMX.getAttribute(name("lifecycle"), "PoolName")).isEqualTo("lifecycle");

        // a changed configuration retires the pool: its successor takes the name, with fresh counters
        mcf.setMaxPoolSize(2);
        use(ds, "bob");
        assertThat(JMX.queryNames(new ObjectName("dev.proxyra:type=Pool,name=lifecycle*"), null))
                .containsExactly(name("lifecycle"));
        assertThat(counters("lifecycle", OUTCOMES)).containsEntry("BorrowsNewPhysical", 1L)
                .containsEntry("BorrowsWarm", 0L);
        assertThat(JMX.getAttribute(name("lifecycle"), "MaxPoolSize")).isEqualTo(2);

        mcf.close();
        assertThat(JMX.queryNames(new ObjectName("dev.proxyra:type=Pool,name=lifecycle*"), null)).isEmpty();
        assertThat(log.records()).extracting(LogRecord::getMessage)
                .anySatisfy(m -> assertThat(m).startsWith("proxyra: pool lifecycle started (JMX dev.proxyra:type=Pool,"
                        + "name=lifecycle): ProxyraConfig[url=" + db.url()))
                .anySatisfy(m -> assertThat(m).startsWith("proxyra: pool lifecycle stopped: borrows warm=0 switched=0"
                        + " new physical=1"));
    }

    @Test
    void twoOpenPoolsOfOneNameGetTwoMBeansAndAWarning() throws Exception {
        ProxyraManagedConnectionFactory first = factory("twin");
        ProxyraManagedConnectionFactory second = factory("twin");
        second.setMaxPoolSize(3); // another configuration, so another pool
        use(Factories.dataSource(first), "alice");
        use(Factories.dataSource(second), "bob");
        assertThat(JMX.queryNames(new ObjectName("dev.proxyra:type=Pool,name=twin*"), null))
                .containsExactlyInAnyOrder(name("twin"), name("twin-2"));
        assertThat(JMX.getAttribute(name("twin-2"), "MaxPoolSize")).isEqualTo(3);
        assertThat(log.records()).filteredOn(r -> r.getLevel() == Level.WARNING).extracting(LogRecord::getMessage)
                .anySatisfy(m -> assertThat(m).contains("another open pool is named twin").contains("Set PoolName"));
    }

    @Test
    void withoutPoolNameThePoolIsNamedAfterItsAccountAndDatabase() throws Exception {
        ProxyraManagedConnectionFactory mcf = Factories.on(db).build();
        factories.add(mcf);
        use(Factories.dataSource(mcf), "alice");
        assertThat(mcf.pool().name()).isEqualTo("app_proxy@postgres");
        assertThat(JMX.queryNames(new ObjectName("dev.proxyra:type=Pool,name=app_proxy@postgres*"), null)).isNotEmpty();
    }

    @Test
    void anInvalidPoolNameIsRefusedNamingThePropertyAndWhatIsAllowed() {
        ProxyraManagedConnectionFactory mcf = factory("bad name,type=x");
        TestCallers.set("alice");
        assertThatThrownBy(() -> Factories.dataSource(mcf).getConnection()).isInstanceOf(SQLException.class)
                .hasMessageContaining("invalid PoolName 'bad name,type=x'")
                .hasMessageContaining("letters, digits, '.', '_', '-' or '@'");
    }

    @Test
    void theHealthCheckNeedsNoCallerAndLeavesTheSessionItChecksAsItWas() throws Exception {
        ProxyraDataSource ds = Factories.dataSource(factory("health"));
        use(ds, "alice");
        TestCallers.set(null);
        CompositeData report = (CompositeData) JMX.invoke(name("health"), "checkHealth", null, null);
        assertThat(report.get("up")).isEqualTo(true);
        assertThat((String) report.get("detail")).startsWith("the database answered");
        // the checked session still runs as alice, warm for her: no switch, no borrow counted by the check
        use(ds, "alice");
        assertThat(counters("health", OUTCOMES))
                .isEqualTo(Map.of("BorrowsWarm", 1L, "BorrowsSwitched", 0L, "BorrowsNewPhysical", 1L));
    }

    @Test
    void theHealthCheckSaysDownWhenTheDatabaseIsUnreachableOrThePoolExhausted() throws Exception {
        ProxyraManagedConnectionFactory unreachable = factory("health-down");
        unreachable.setURL("jdbc:postgresql://127.0.0.1:" + closedPort() + "/postgres");
        unreachable.pool();
        CompositeData down = (CompositeData) JMX.invoke(name("health-down"), "checkHealth", null, null);
        assertThat(down.get("up")).isEqualTo(false);
        assertThat((String) down.get("detail")).contains("unreachable");

        ProxyraDataSource ds = Factories.dataSource(factory("health-busy"));
        TestCallers.set("alice");
        try (Connection held = ds.getConnection()) {
            CompositeData busy = (CompositeData) JMX.invoke(name("health-busy"), "checkHealth", null, null);
            assertThat(busy.get("up")).isEqualTo(false);
            assertThat((String) busy.get("detail")).startsWith("pool exhausted");
        }
    }

    /** The attack: read every attribute an operator's tool (or a heap-walking logger) can read, and look for it. */
    @Test
    void noAttributeShowsThePassword() throws Exception {
        ProxyraManagedConnectionFactory mcf = factory("secret");
        String password = "s3cr3t-" + System.nanoTime();
        mcf.setPassword(password);
        mcf.setUser("no_such_account"); // refused at login: the failure path that quotes driver messages
        TestCallers.set("alice");
        assertThatThrownBy(() -> Factories.dataSource(mcf).getConnection()).isInstanceOf(SQLException.class);
        StringBuilder everything = new StringBuilder();
        for (MBeanAttributeInfo a : JMX.getMBeanInfo(name("secret")).getAttributes()) {
            everything.append(a.getName()).append('=').append(JMX.getAttribute(name("secret"), a.getName())).append('\n');
        }
        everything.append(JMX.invoke(name("secret"), "checkHealth", null, null));
        assertThat(everything.toString()).contains("Configuration=ProxyraConfig[").contains("password=***")
                .doesNotContain(password);
        assertThat(log.records()).extracting(LogRecord::getMessage).noneMatch(m -> m != null && m.contains(password));
    }

    private static int closedPort() throws Exception {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
