package dev.proxyra.oracle.live;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

import jakarta.resource.spi.ManagedConnection;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import dev.proxyra.identity.DbIdentity;
import dev.proxyra.jdbc.ProxyraDataSource;
import dev.proxyra.spi.IdentityRequest;
import dev.proxyra.spi.ProxyraManagedConnectionFactory;
import dev.proxyra.spi.ProxyraResourceAdapter;
import dev.proxyra.testing.ComponentLoader;
import dev.proxyra.testing.Factories;
import dev.proxyra.testing.RecordingListener;
import dev.proxyra.testing.TestCallers;

/**
 * The identity, transaction and fault scenarios of the PostgreSQL and fake-Oracle suites, against a
 * real Oracle Database prepared with sql/oracle-setup.sql. Opt-in: {@code ./mvnw -B -Poracle -pl adapter verify}
 * with ORACLE_URL, ORACLE_PROXY_USER and ORACLE_PROXY_PASSWORD set; without them every test is
 * reported as skipped, with the reason.
 */
@Tag("oracle-live")
class OracleLiveTest {
    private static final String URL = System.getenv("ORACLE_URL");
    private static final String PROXY_USER = System.getenv("ORACLE_PROXY_USER");
    private static final String PROXY_PASSWORD = System.getenv("ORACLE_PROXY_PASSWORD");

    private ProxyraResourceAdapter ra;
    private ProxyraManagedConnectionFactory mcf;
    private ProxyraDataSource ds;

    @BeforeAll
    static void requireSettings() {
        boolean configured = URL != null && PROXY_USER != null && PROXY_PASSWORD != null;
        if (!configured) {
            System.out.println("proxyra Oracle live suite SKIPPED: set ORACLE_URL (e.g. jdbc:oracle:thin:@//localhost:1521/FREEPDB1),"
                    + " ORACLE_PROXY_USER and ORACLE_PROXY_PASSWORD for a database prepared with sql/oracle-setup.sql");
        }
        Assumptions.assumeTrue(configured, "ORACLE_URL, ORACLE_PROXY_USER and ORACLE_PROXY_PASSWORD are not set");
    }

    @BeforeEach
    void setUp() {
        ra = new ProxyraResourceAdapter();
        ra.start(null);
        mcf = Factories.onUrl(URL, PROXY_USER, PROXY_PASSWORD).maxPoolSize(4).waitTimeout(10).networkTimeout(30)
                .resourceAdapter(ra).build();
        ds = (ProxyraDataSource) mcf.createConnectionFactory();
    }

    @AfterEach
    void tearDown() {
        TestCallers.set(null);
        if (ra != null) {
            ra.stop();
        }
    }

    /** SESSION_USER, PROXY_USER and CLIENT_IDENTIFIER of the session behind {@code c}. */
    private static String[] whoami(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("select sys_context('USERENV','SESSION_USER'),"
                + " sys_context('USERENV','PROXY_USER'), sys_context('USERENV','CLIENT_IDENTIFIER') from dual")) {
            rs.next();
            return new String[] {rs.getString(1), rs.getString(2), rs.getString(3)};
        }
    }

    @Test
    void aliceAndBobRunAsThemselvesThroughTheProxyWithTheirClientIdentifier() throws Exception {
        for (String caller : new String[] {"alice", "bob"}) {
            TestCallers.set(caller);
            try (Connection c = ds.getConnection()) {
                assertThat(whoami(c)).containsExactly(caller.toUpperCase(), PROXY_USER.toUpperCase(), caller);
            }
        }
    }

    @Test
    void theSameCallerReusesItsWarmProxySession() throws Exception {
        TestCallers.set("alice");
        try (Connection c = ds.getConnection()) {
            whoami(c);
        }
        long switches = mcf.pool().identitySwitches();
        for (int i = 0; i < 10; i++) {
            try (Connection c = ds.getConnection()) {
                assertThat(whoami(c)[0]).isEqualTo("ALICE");
            }
        }
        assertThat(mcf.pool().identitySwitches()).isEqualTo(switches);
    }

    @Test
    void concurrentCallersNeverSeeAnotherIdentity() throws Exception {
        AtomicInteger wrong = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                int thread = t;
                futures.add(pool.submit(() -> {
                    for (int i = 0; i < 250; i++) {
                        String caller = (thread + i) % 2 == 0 ? "alice" : "bob";
                        TestCallers.set(caller);
                        try (Connection c = ds.getConnection()) {
                            if (!whoami(c)[0].equals(caller.toUpperCase())) {
                                wrong.incrementAndGet();
                            }
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : futures) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
        System.out.printf("oracle live identity load: 2000 borrows, %d wrong, %d switches, %d physical%n",
                wrong.get(), mcf.pool().identitySwitches(), mcf.pool().totalCount());
        assertThat(wrong.get()).isZero();
        assertThat(mcf.pool().lentOut()).isZero();
    }

    /**
     * ojdbc logs off the session whose proxy authentication failed: proxyra discards that physical connection and
     * serves the next caller on a new one. The SIDs before and after show what the database did.
     */
    @Test
    void aUserTheProxyMayNotActAsIsRefusedWith28000AndTheNextCallerIsServedOnAFreshConnection() throws Exception {
        mcf.setMaxPoolSize(1);
        ds = (ProxyraDataSource) mcf.createConnectionFactory();
        TestCallers.set("alice");
        String sidBefore;
        try (Connection c = ds.getConnection()) {
            sidBefore = sid(c);
        }
        TestCallers.set("mallory");
        assertThatThrownBy(ds::getConnection).isInstanceOfSatisfying(SQLException.class, e -> {
            assertThat(e.getSQLState()).isEqualTo("28000");
            assertThat(e.getMessage()).contains("may not act as database user 'MALLORY'");
        });
        TestCallers.set("alice");
        try (Connection c = ds.getConnection()) {
            assertThat(whoami(c)[0]).isEqualTo("ALICE");
            System.out.printf("oracle live: alice's SID before mallory's refusal %s, after %s%n", sidBefore, sid(c));
        }
        assertThat(mcf.pool().discardedCount()).as("the logged-off connection").isEqualTo(1);
        assertThat(mcf.pool().lentOut()).isZero();
    }

    /** What docs/oracle.md says a warm borrow costs: UCP's one ping (ValidateConnectionOnBorrow=true), nothing more. */
    @Test
    void aWarmBorrowCostsOneRoundTrip() throws Exception {
        mcf.setMaxPoolSize(1);
        ds = (ProxyraDataSource) mcf.createConnectionFactory();
        TestCallers.set("alice");
        long before;
        try (Connection c = ds.getConnection()) {
            before = roundTrips(c);
        }
        int borrows = 20;
        for (int i = 0; i < borrows; i++) {
            try (Connection c = ds.getConnection()) {
                assertThat(c.isClosed()).isFalse();
            }
        }
        long after;
        try (Connection c = ds.getConnection()) {
            after = roundTrips(c);
        }
        // borrows + 1 warm borrows (the last one measures), each one ping; the measuring query itself: one
        long perBorrow = (after - before - 1) / (borrows + 1);
        System.out.printf("oracle live: %d round trips for %d warm borrows (%d per borrow)%n", after - before - 1,
                borrows + 1, perBorrow);
        assertThat(after - before - 1).isEqualTo(borrows + 1);
    }

    /** A proxied physical connection holds two server sessions: the proxy account's and the caller's. */
    @Test
    void aProxiedConnectionHoldsTwoServerSessions() throws Exception {
        TestCallers.set("alice");
        try (Connection c = ds.getConnection(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(
                "select count(*), count(case when username = user then 1 end) from v$session where paddr ="
                        + " (select paddr from v$session where sid = sys_context('USERENV','SID'))")) {
            rs.next();
            System.out.printf("oracle live: %d sessions on alice's server process, %d of them alice's%n",
                    rs.getInt(1), rs.getInt(2));
            assertThat(rs.getInt(1)).isEqualTo(2);
            assertThat(rs.getInt(2)).isEqualTo(1);
        }
    }

    /** A clerk who changes its roles by SQL leaves nothing to the next request: that session is discarded. */
    @Test
    void rolesChangedBySqlDoNotReachTheNextRequest() throws Exception {
        TestCallers.set("alice");
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            s.execute("SET ROLE NONE");
            assertThat(sessionRoles(c)).doesNotContain("ERP_USER");
        }
        try (Connection c = ds.getConnection()) {
            assertThat(sessionRoles(c)).contains("ERP_USER");
        }
        assertThat(mcf.pool().discardedCount()).isEqualTo(1);
    }

    @Test
    void theClientIdentifierIsTheCallersAfterAWarmReuse() throws Exception {
        mcf.setPrincipalMap("alice=ALICE,carol=ALICE");
        TestCallers.set("alice");
        try (Connection c = ds.getConnection()) {
            assertThat(whoami(c)[2]).isEqualTo("alice");
        }
        for (String caller : new String[] {"alice", "carol", "alice"}) {
            TestCallers.set(caller);
            try (Connection c = ds.getConnection()) {
                assertThat(whoami(c)).as("warm reuse by " + caller).containsExactly("ALICE", PROXY_USER.toUpperCase(),
                        caller);
            }
        }
    }

    /** V$SESSION's SID, MODULE and ACTION of the session behind {@code c}, as the server holds them. */
    private static String[] moduleAndAction(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("select sid, module, action from v$session"
                + " where sid = sys_context('USERENV','SID')")) {
            rs.next();
            return new String[] {rs.getString(1), rs.getString(2), rs.getString(3)};
        }
    }

    /**
     * EndToEndTags=APPLICATION: MODULE and ACTION are the requesting component's application and module names on
     * every borrow, also after a warm reuse from another application, and after the previous lending set its own
     * through SQL (DBMS_APPLICATION_INFO, which ojdbc never sees); a thread without names leaves neither.
     */
    @Test
    void moduleAndActionAreTheComponentsAfterAWarmReuse() throws Exception {
        mcf.setMaxPoolSize(1);
        mcf.setPrincipalMap("alice=ALICE,carol=ALICE");
        ds = (ProxyraDataSource) mcf.createConnectionFactory();
        ComponentLoader erp = new ComponentLoader("erp", "erp-web.war");
        ComponentLoader billing = new ComponentLoader("billing", "billing-ejb.jar");
        TestCallers.set("alice");
        String sid = erp.run(() -> {
            try (Connection c = ds.getConnection()) {
                String[] seen = moduleAndAction(c);
                assertThat(seen).containsExactly(seen[0], "erp", "erp-web.war");
                try (Statement s = c.createStatement()) {
                    s.execute("begin dbms_application_info.set_module('payroll', 'approve'); end;");
                }
                return seen[0];
            }
        });
        billing.run(() -> {
            try (Connection c = ds.getConnection()) {
                assertThat(moduleAndAction(c)).as("warm reuse from another application")
                        .containsExactly(sid, "billing", "billing-ejb.jar");
            }
            return null;
        });
        TestCallers.set("carol");
        try (Connection c = ds.getConnection()) {
            String[] seen = moduleAndAction(c);
            System.out.printf("oracle live: MODULE/ACTION of a borrow without names after billing's: %s/%s%n", seen[1],
                    seen[2]);
            assertThat(seen[1]).as("MODULE").isNull();
            assertThat(seen[2]).as("ACTION").isNull();
            assertThat(whoami(c)[2]).isEqualTo("carol");
        }
    }

    private static String sid(Connection c) throws SQLException {
        try (Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("select sys_context('USERENV','SID') from dual")) {
            rs.next();
            return rs.getString(1);
        }
    }

    private static long roundTrips(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("select m.value from v$mystat m"
                + " join v$statname n on n.statistic# = m.statistic# where n.name = 'SQL*Net roundtrips to/from client'")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static List<String> sessionRoles(Connection c) throws SQLException {
        List<String> roles = new ArrayList<>();
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("select role from session_roles")) {
            while (rs.next()) {
                roles.add(rs.getString(1));
            }
        }
        return roles;
    }

    @Test
    void localTransactionsCommitAndRollBackAsTheCaller() throws Exception {
        String committed = "live-" + UUID.randomUUID();
        String rolledBack = "live-" + UUID.randomUUID();
        IdentityRequest alice = new IdentityRequest(DbIdentity.of("ALICE", "alice"));
        ManagedConnection mc = mcf.createManagedConnection(null, null);
        RecordingListener events = new RecordingListener();
        mc.addConnectionEventListener(events);
        for (String item : new String[] {committed, rolledBack}) {
            mc.getLocalTransaction().begin();
            try (Connection c = (Connection) mc.getConnection(null, alice);
                 PreparedStatement ps = c.prepareStatement("insert into erp.orders (item) values (?)")) {
                ps.setString(1, item);
                ps.executeUpdate();
            }
            if (item.equals(committed)) {
                mc.getLocalTransaction().commit();
            } else {
                mc.getLocalTransaction().rollback();
            }
            mc.cleanup();
        }
        mc.destroy();
        TestCallers.set("alice");
        try (Connection c = ds.getConnection();
             PreparedStatement ps = c.prepareStatement("select item, owner from erp.orders where item in (?, ?)")) {
            ps.setString(1, committed);
            ps.setString(2, rolledBack);
            try (ResultSet rs = ps.executeQuery()) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getString(1)).isEqualTo(committed);
                assertThat(rs.getString(2)).isEqualTo("ALICE");
                assertThat(rs.next()).isFalse();
            }
        }
        TestCallers.set("bob");
        try (Connection c = ds.getConnection();
             PreparedStatement ps = c.prepareStatement("select count(*) from erp.orders where item = ?")) {
            ps.setString(1, committed);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                assertThat(rs.getInt(1)).as("VPD hides alice's row from bob").isZero();
            }
        }
    }

    @Test
    void aSessionThatStopsAnsweringFailsWithinNetworkTimeoutAndThePoolHeals() throws Exception {
        mcf.setNetworkTimeout(2);
        TestCallers.set("alice");
        RecordingListener events = new RecordingListener();
        ManagedConnection mc = mcf.createManagedConnection(null, null);
        mc.addConnectionEventListener(events);
        try (Connection c = (Connection) mc.getConnection(null, new IdentityRequest(DbIdentity.of("ALICE", "alice")));
             Statement s = c.createStatement()) {
            // The server keeps the call for 5 s; the driver gives up reading after 2 s.
            assertThatThrownBy(() -> s.execute("begin dbms_session.sleep(5); end;")).isInstanceOf(SQLException.class);
        }
        assertThat(events.ids()).contains(jakarta.resource.spi.ConnectionEvent.CONNECTION_ERROR_OCCURRED);
        mc.destroy();
        assertThat(mcf.pool().discardedCount()).isEqualTo(1);
        try (Connection c = ds.getConnection()) {
            assertThat(whoami(c)[0]).isEqualTo("ALICE");
        }
        assertThat(mcf.pool().lentOut()).isZero();
    }

    @Test
    void stoppingTheAdapterClosesEverySession() throws Exception {
        TestCallers.set("alice");
        try (Connection c = ds.getConnection()) {
            whoami(c);
        }
        ra.stop();
        assertThat(mcf.pool().isClosed()).isTrue();
        assertThat(mcf.pool().totalCount()).isLessThanOrEqualTo(0);
        ra = null;
    }
}
