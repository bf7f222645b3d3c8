package dev.proxyra.oracle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.Connection;
import java.sql.SQLClientInfoException;
import java.sql.SQLException;
import java.sql.SQLRecoverableException;
import java.util.List;
import java.util.Map;

import jakarta.resource.spi.ManagedConnection;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import oracle.jdbc.OracleConnection;
import dev.proxyra.identity.DbIdentity;
import dev.proxyra.jdbc.ConnectionHandle;
import dev.proxyra.jdbc.ProxyraDataSource;
import dev.proxyra.spi.IdentityRequest;
import dev.proxyra.spi.ProxyraManagedConnectionFactory;
import dev.proxyra.spi.ProxyraResourceAdapter;
import dev.proxyra.testing.ComponentLoader;
import dev.proxyra.testing.Factories;
import dev.proxyra.testing.RecordingOracleConnection;
import dev.proxyra.testing.TestCallers;
import oracle.jdbcfake.FakeOracleDataSource;

/**
 * The Oracle path end to end through the real UCP: proxyra's adapter, UCP's pool and labelling, and a
 * recording fake in place of ojdbc's network connection. Asserts the exact proxy-session call sequence.
 */
class OracleThroughUcpTest {
    private static final IdentityRequest ALICE = new IdentityRequest(DbIdentity.of("ALICE", "alice"));
    private static final IdentityRequest BOB = new IdentityRequest(DbIdentity.of("BOB", "bob"));

    private ProxyraResourceAdapter ra;
    ProxyraManagedConnectionFactory mcf;
    private ProxyraDataSource ds;

    @BeforeEach
    void setUp() {
        FakeOracleDataSource.reset();
        ra = new ProxyraResourceAdapter();
        ra.start(null);
        mcf = Factories.onFakeOracle(factoryClassName())
                .maxPoolSize(1) // every borrow lands on the same physical connection while it lives
                .resourceAdapter(ra).build();
        ds = (ProxyraDataSource) mcf.createConnectionFactory();
    }

    /** The fake factory: its name decides which of UCP's Oracle pools serves it. */
    String factoryClassName() {
        return FakeOracleDataSource.class.getName();
    }

    @AfterEach
    void tearDown() {
        TestCallers.set(null);
        ra.stop();
    }

    /**
     * The calls proxyra makes that matter for identity and transactions, in order (not UCP's own ORA$HA tags, nor
     * MODULE and ACTION, which the EndToEndTags tests check).
     */
    private static List<String> sessionCalls(RecordingOracleConnection fake) {
        return fake.calls.stream()
                .filter(c -> !c.startsWith("setClientInfo(ORA$HA.") && !c.startsWith("setClientInfo(OCSID.MODULE=")
                        && !c.startsWith("setClientInfo(OCSID.ACTION="))
                .filter(c -> c.startsWith("openProxySession") || c.startsWith("close") || c.startsWith("commit")
                        || c.startsWith("rollback") || c.startsWith("setAutoCommit") || c.startsWith("setClientInfo")
                        || c.startsWith("execute(")
                        || c.contains(" -> "))
                .toList();
    }

    private static RecordingOracleConnection physical(int i) {
        return FakeOracleDataSource.OPENED.get(i);
    }

    private void use(String caller) throws Exception {
        TestCallers.set(caller);
        try (Connection c = ds.getConnection()) {
            assertThat(c.isClosed()).isFalse();
        }
    }

    @Test
    void aliceThenAliceThenBob() throws Exception {
        mcf.setClientIdentifier("false");
        use("alice");
        assertThat(sessionCalls(physical(0))).containsExactly(
                "openProxySession(PROXYTYPE_USER_NAME, {PROXY_USER_NAME=ALICE})");
        use("alice");
        assertThat(sessionCalls(physical(0))).hasSize(1); // warm: no call at all
        use("bob");
        assertThat(sessionCalls(physical(0))).containsExactly(
                "openProxySession(PROXYTYPE_USER_NAME, {PROXY_USER_NAME=ALICE})",
                "close(PROXY_SESSION)",
                "openProxySession(PROXYTYPE_USER_NAME, {PROXY_USER_NAME=BOB})");
        assertThat(FakeOracleDataSource.OPENED).hasSize(1);
        assertThat(mcf.pool().identitySwitches()).isEqualTo(2);
    }

    /**
     * What a warm borrow costs on UCP's Oracle path: UCP's own validation (isValid, one ping round trip, with
     * ValidateConnectionOnBorrow=true), its request boundaries and the client identifier (sent with the next call);
     * no proxy-session call.
     */
    @Test
    void aWarmBorrowCostsUcpsOnePingAndNoProxySessionCall() throws Exception {
        use("alice");
        int before = physical(0).calls.size();
        use("alice");
        List<String> warm = List.copyOf(physical(0).calls.subList(before, physical(0).calls.size()));
        System.out.println("proxyra: calls on the physical connection for one warm Oracle borrow and return: " + warm);
        assertThat(warm.stream().filter(c -> c.equals("isValid")).count()).isEqualTo(1);
        assertThat(warm).noneMatch(c -> c.startsWith("openProxySession") || c.startsWith("close")
                || c.startsWith("execute") || c.equals("pingDatabase"));
        assertThat(warm).containsSubsequence("beginRequest", "setClientInfo(OCSID.CLIENTID=alice)", "endRequest");
    }

    /**
     * Two callers of one database user: the second gets a proxy session of its own, so nothing the first one's SQL
     * left (package state, ALTER SESSION settings, temporary table rows) reaches it, and its own client identifier.
     */
    @Test
    void twoCallersOfOneDatabaseUserEachGetTheirOwnProxySession() throws Exception {
        mcf.setPrincipalMap("alice=SHARED,bob=SHARED");
        use("alice");
        use("alice");
        use("bob");
        // every borrow tags again: a service with RESET_STATE=LEVEL2 clears CLIENT_IDENTIFIER at each endRequest
        assertThat(sessionCalls(physical(0))).containsExactly(
                "openProxySession(PROXYTYPE_USER_NAME, {PROXY_USER_NAME=SHARED})",
                "setClientInfo(OCSID.CLIENTID=alice)",
                "setClientInfo(OCSID.CLIENTID=alice)",
                "close(PROXY_SESSION)",
                "openProxySession(PROXYTYPE_USER_NAME, {PROXY_USER_NAME=SHARED})",
                "setClientInfo(OCSID.CLIENTID=bob)");
        assertThat(physical(0).calls).containsSubsequence("setClientInfo(OCSID.CLIENTID=alice)", "endRequest",
                "beginRequest", "setClientInfo(OCSID.CLIENTID=alice)");
        assertThat(mcf.pool().identitySwitches()).isEqualTo(2);
    }

    @Test
    void aFailedTagLeavesNoLabelThatCouldServeTheProxyAccountAsTheCaller() throws Exception {
        mcf.setPrincipalMap("alice=SHARED,bob=SHARED");
        use("alice");
        physical(0).failNext("setClientInfo", new SQLClientInfoException("scripted tag failure", Map.of()));
        // A pooled session in an unknown state is never lent again: bob is served on a new physical connection,
        // and the one with SHARED's proxy session is gone.
        use("bob");
        assertThat(sessionCalls(physical(0))).containsExactly(
                "openProxySession(PROXYTYPE_USER_NAME, {PROXY_USER_NAME=SHARED})",
                "setClientInfo(OCSID.CLIENTID=alice)",
                "close(PROXY_SESSION)",
                "openProxySession(PROXYTYPE_USER_NAME, {PROXY_USER_NAME=SHARED})",
                "setClientInfo -> 0",
                "close()");
        assertThat(sessionCalls(physical(1))).containsExactly(
                "openProxySession(PROXYTYPE_USER_NAME, {PROXY_USER_NAME=SHARED})",
                "setClientInfo(OCSID.CLIENTID=bob)");
        assertThat(mcf.pool().lentOut()).isZero();
    }

    @Test
    void aTransactionNeverSpansASwitch() throws Exception {
        mcf.setClientIdentifier("false");
        ManagedConnection mc = mcf.createManagedConnection(null, null);
        mc.getLocalTransaction().begin();
        Connection alice = (Connection) mc.getConnection(null, ALICE);
        assertThat((Throwable) ((ConnectionHandle) mc.getConnection(null, BOB)).refusal())
                .hasMessageContaining("cannot also run as 'BOB'");
        alice.close();
        mc.getLocalTransaction().commit();
        mc.cleanup();
        try (Connection bob = (Connection) mc.getConnection(null, BOB)) {
            assertThat(bob.isClosed()).isFalse();
        }
        mc.cleanup();
        mc.destroy();
        assertThat(sessionCalls(physical(0))).containsExactly(
                "openProxySession(PROXYTYPE_USER_NAME, {PROXY_USER_NAME=ALICE})",
                "setAutoCommit(false)",
                "commit",
                "setAutoCommit(true)",
                "close(PROXY_SESSION)",
                "openProxySession(PROXYTYPE_USER_NAME, {PROXY_USER_NAME=BOB})");
    }

    @Test
    void aFatalErrorInvalidatesThePhysicalConnectionAndItIsNeverReused() throws Exception {
        mcf.setClientIdentifier("false");
        TestCallers.set("alice");
        try (Connection c = ds.getConnection()) {
            physical(0).failNext("createStatement", new SQLRecoverableException("ORA-03113: end-of-file on communication channel", "08000", 3113));
            assertThatThrownBy(c::createStatement).isInstanceOf(SQLException.class);
        }
        assertThat(physical(0).isClosed()).isTrue();
        assertThat(mcf.pool().discardedCount()).isEqualTo(1);
        try (Connection c = ds.getConnection()) {
            assertThat(c.isClosed()).isFalse();
        }
        assertThat(FakeOracleDataSource.OPENED).hasSize(2);
        assertThat(sessionCalls(physical(1))).containsExactly(
                "openProxySession(PROXYTYPE_USER_NAME, {PROXY_USER_NAME=ALICE})");
        assertThat(mcf.pool().lentOut()).isZero();
    }

    @Test
    void aPooledSessionWhoseSwitchFailsIsDiscardedAndANewOneServesTheCaller() throws Exception {
        mcf.setClientIdentifier("false");
        use("alice");
        physical(0).failNext("inLocalTransaction", new SQLException("ORA-00600: internal error code", "60000", 600));
        use("bob");
        assertThat(physical(0).isClosed()).isTrue();
        assertThat(FakeOracleDataSource.OPENED).hasSize(2);
        assertThat(sessionCalls(physical(1))).containsExactly("openProxySession(PROXYTYPE_USER_NAME, {PROXY_USER_NAME=BOB})");
        var metrics = mcf.pool().metrics();
        assertThat(metrics.discards(dev.proxyra.monitoring.PoolMetrics.Discard.STATE_NOT_RESET)).isEqualTo(1);
        assertThat(metrics.discards(dev.proxyra.monitoring.PoolMetrics.Discard.FATAL_ERROR)).isZero();
        assertThat(metrics.discards(dev.proxyra.monitoring.PoolMetrics.Discard.IDENTITY_CHANGED)).isZero();
        assertThat(metrics.borrows(dev.proxyra.monitoring.PoolMetrics.Outcome.NEW_PHYSICAL)).isEqualTo(2);
        assertThat(mcf.pool().lentOut()).isZero();
    }

    /** The configuration changed while a borrow was under way, and the borrow then failed: the old pool closes. */
    @Test
    void aPoolRetiredDuringABorrowThatFailsClosesWhenThatBorrowEnds() throws Exception {
        mcf.setClientIdentifier("false");
        FakeOracleDataSource.REFUSALS.put("MALLORY", 28150); // refused: the session goes back to the old pool
        FakeOracleDataSource.whileOpeningProxySession = () -> mcf.setMaxPoolSize(2); // retires the pool
        TestCallers.set("mallory");
        assertThatThrownBy(ds::getConnection).isInstanceOfSatisfying(SQLException.class,
                e -> assertThat(e.getSQLState()).isEqualTo("28000"));
        assertThat(physical(0).isClosed()).as("the retired pool's physical connection").isTrue();
    }

    /** A database that accepts logins and then fails every session (a proxy in front of one that is down). */
    @Test
    void aDatabaseThatFailsEveryNewSessionCostsAtMostMaxPoolSizePlusOneLoginsAndOneRefusal() throws Exception {
        mcf.setClientIdentifier("false");
        FakeOracleDataSource.REFUSALS.put("BOB", 3113); // ORA-03113 end-of-file on communication channel: fatal
        TestCallers.set("bob");
        assertThatThrownBy(ds::getConnection).isInstanceOfSatisfying(SQLException.class,
                e -> assertThat(e.getMessage()).contains("the connection to the database failed while switching"));
        var metrics = mcf.pool().metrics();
        assertThat(FakeOracleDataSource.OPENED).as("MaxPoolSize=1: one session, then one more").hasSize(2);
        assertThat(metrics.discards(dev.proxyra.monitoring.PoolMetrics.Discard.FATAL_ERROR)).isEqualTo(2);
        assertThat(metrics.refusals(dev.proxyra.monitoring.Refusal.DATABASE_UNREACHABLE)).isEqualTo(1);
        assertThat(mcf.pool().lentOut()).isZero();
    }

    /**
     * ojdbc logs off the session whose proxy authentication was refused: the connection is discarded, never lent
     * again nor returned as if unharmed, and the next caller is served on a new one.
     */
    @ParameterizedTest
    @ValueSource(ints = {28150, 28179, 1017, 28000, 28001, 1045, 28156, 28157, 1924, 2391, 18, 4088, 604, 20001})
    void aRefusedProxySessionIsAClear28000AndTheLoggedOffConnectionIsDiscardedNotLent(int code) throws Exception {
        mcf.setClientIdentifier("false");
        FakeOracleDataSource.REFUSALS.put("MALLORY", code);
        TestCallers.set("mallory");
        assertThatThrownBy(ds::getConnection)
                .isInstanceOfSatisfying(SQLException.class, e -> {
                    assertThat(e.getSQLState()).isEqualTo("28000");
                    assertThat(e.getMessage()).contains("may not act as database user 'MALLORY' (caller 'mallory')")
                            .contains("error " + code);
                });
        assertThat(physical(0).isLoggedOff()).isTrue();
        use("alice");
        assertThat(FakeOracleDataSource.OPENED).hasSize(2);
        // UCP closes a discarded connection on a thread of its own: what matters is that nothing else ran on it
        assertThat(sessionCalls(physical(0))).first().isEqualTo(
                "openProxySession(PROXYTYPE_USER_NAME, {PROXY_USER_NAME=MALLORY}) -> " + code);
        assertThat(sessionCalls(physical(0))).hasSizeLessThanOrEqualTo(2).allMatch(c -> c.contains("MALLORY")
                || c.equals("close()"));
        assertThat(sessionCalls(physical(1))).containsExactly(
                "openProxySession(PROXYTYPE_USER_NAME, {PROXY_USER_NAME=ALICE})");
        assertThat(physical(1).calls).noneMatch(c -> c.endsWith("-> 1012"));
        assertThat(mcf.pool().discardedCount()).isEqualTo(1);
        assertThat(mcf.pool().lentOut()).isZero();
    }

    /** A refusal storm for one mis-granted user: refused from memory, not one physical login per request. */
    @Test
    void aHundredRefusalsInARowCostOnePhysicalLoginAndNoOtherCallersSession() throws Exception {
        mcf.setClientIdentifier("false");
        mcf.setMaxPoolSize(4);
        ds = (ProxyraDataSource) mcf.createConnectionFactory();
        FakeOracleDataSource.REFUSALS.put("MALLORY", 28150);
        TestCallers.set("mallory");
        for (int i = 0; i < 100; i++) {
            assertThatThrownBy(ds::getConnection).isInstanceOfSatisfying(SQLException.class,
                    e -> assertThat(e.getSQLState()).isEqualTo("28000"));
        }
        long tries = FakeOracleDataSource.OPENED.stream().flatMap(c -> c.calls.stream())
                .filter(c -> c.startsWith("openProxySession")).count();
        System.out.println("proxyra: 100 refusals of one user in a row: " + FakeOracleDataSource.OPENED.size()
                + " physical logins, " + tries + " proxy authentications");
        assertThat(tries).isEqualTo(1);
        assertThat(FakeOracleDataSource.OPENED).hasSize(1);
        use("alice");
        assertThat(FakeOracleDataSource.OPENED).hasSize(2);
        assertThat(mcf.pool().discardedCount()).isEqualTo(1);
    }

    /** Names ojdbc cannot take as a proxy user are refused before any session is touched: warm sessions survive. */
    @ParameterizedTest
    @ValueSource(strings = {"alice.smith", "alice@example.com", "john doe", "o'brien", "alice-1", "domain\\alice",
        "alice/x", "alice[bob]", "alice as sysdba"})
    void aCallerWhoseNameCannotBeAnOracleUserIsRefusedAndDiscardsNoWarmSession(String caller) throws Exception {
        mcf.setClientIdentifier("false");
        mcf.setMaxPoolSize(2);
        ds = (ProxyraDataSource) mcf.createConnectionFactory();
        TestCallers.set("alice");
        try (Connection a = ds.getConnection()) {
            TestCallers.set("bob");
            try (Connection b = ds.getConnection()) {
                assertThat(b.isClosed()).isFalse();
            }
        }
        TestCallers.set(caller);
        assertThatThrownBy(ds::getConnection).isInstanceOfSatisfying(SQLException.class, e -> {
            assertThat(e.getSQLState()).isEqualTo("28000");
            assertThat(e.getMessage()).contains("cannot be an Oracle proxy user");
        });
        assertThat(mcf.pool().discardedCount()).isZero();
        assertThat(FakeOracleDataSource.OPENED).hasSize(2).noneMatch(RecordingOracleConnection::isClosed);
        assertThat(FakeOracleDataSource.OPENED).allSatisfy(c -> assertThat(c.calls)
                .noneMatch(call -> call.startsWith("close(PROXY_SESSION)") || call.contains("17150")));
        use("alice");
        use("bob");
        assertThat(mcf.pool().identitySwitches()).as("alice and bob were still warm").isEqualTo(2);
    }

    @Test
    void aCallerNameLongerThanOjdbcsClientIdentifierLimitIsCutTo64Chars() throws Exception {
        String longName = "a".repeat(63) + "\uD83D\uDE00" + "tail";
        mcf.setPrincipalMap(longName + "=ALICE");
        use(longName);
        assertThat(sessionCalls(physical(0))).containsExactly(
                "openProxySession(PROXYTYPE_USER_NAME, {PROXY_USER_NAME=ALICE})",
                "setClientInfo(OCSID.CLIENTID=" + "a".repeat(63) + ")");
        assertThat(mcf.pool().discardedCount()).isZero();
    }

    /** SET ROLE changes the roles the label names: that session is never lent again, not even to the same caller. */
    @ParameterizedTest
    @ValueSource(strings = {"SET ROLE ERP_MANAGER", "begin dbms_session.set_role('ERP_MANAGER'); end;"})
    void aSessionWhoseRolesSqlMayHaveChangedIsDiscardedOnReturn(String sql) throws Exception {
        mcf.setClientIdentifier("false");
        TestCallers.set("alice");
        try (Connection c = ds.getConnection(); java.sql.Statement s = c.createStatement()) {
            s.execute(sql);
        }
        var metrics = mcf.pool().metrics();
        assertThat(metrics.discards(dev.proxyra.monitoring.PoolMetrics.Discard.IDENTITY_CHANGED)).isEqualTo(1);
        use("alice");
        assertThat(FakeOracleDataSource.OPENED).hasSize(2);
        assertThat(sessionCalls(physical(1))).containsExactly(
                "openProxySession(PROXYTYPE_USER_NAME, {PROXY_USER_NAME=ALICE})");
    }

    @Test
    void ordinarySqlAboutRolesKeepsTheSessionWarm() throws Exception {
        mcf.setClientIdentifier("false");
        TestCallers.set("alice");
        try (Connection c = ds.getConnection(); java.sql.Statement s = c.createStatement()) {
            s.execute("select role from session_roles");
        }
        use("alice");
        assertThat(FakeOracleDataSource.OPENED).hasSize(1);
        assertThat(mcf.pool().discardedCount()).isZero();
    }

    @Test
    void stoppingTheAdapterClosesProxySessionsBeforePhysicalConnections() throws Exception {
        mcf.setClientIdentifier("false");
        use("alice");
        ra.stop();
        assertThat(FakeOracleDataSource.OPENED).hasSize(1);
        assertThat(sessionCalls(physical(0))).containsExactly(
                "openProxySession(PROXYTYPE_USER_NAME, {PROXY_USER_NAME=ALICE})",
                "close(PROXY_SESSION)",
                "close()");
    }

    @Test
    void anUnwrappedOracleConnectionCannotTouchTheProxySessionAndDiesWithItsHandle() throws Exception {
        mcf.setClientIdentifier("false");
        TestCallers.set("alice");
        Connection c = ds.getConnection();
        OracleConnection oracle = c.unwrap(OracleConnection.class);
        assertThat(oracle.getClass().getName()).doesNotStartWith("oracle.");
        assertThat(oracle.isProxySession()).isTrue();
        for (ThrowingCall call : new ThrowingCall[] {() -> oracle.openProxySession(OracleConnection.PROXYTYPE_USER_NAME,
                new java.util.Properties()), () -> oracle.close(OracleConnection.PROXY_SESSION),
            () -> oracle.setDefaultRowPrefetch(1000)}) {
            assertThatThrownBy(call::run).isInstanceOf(SQLException.class)
                    .hasMessageContaining("is not available through proxyra")
                    .hasMessageContaining("proxyra opens and closes proxy sessions");
        }
        // java.sql.Connection's own methods are the handle's: a handle-bound statement
        assertThat(oracle.createStatement().getConnection()).isSameAs(c);
        c.close();
        assertThatThrownBy(oracle::isProxySession).hasMessageContaining("is closed");
        assertThatThrownBy(() -> oracle.createStatement()).hasMessageContaining("is closed");
        assertThat(sessionCalls(physical(0))).containsExactly(
                "openProxySession(PROXYTYPE_USER_NAME, {PROXY_USER_NAME=ALICE})");
    }

    @Test
    void aProxySessionChangedOutsideProxyraWhileLentIsDiscardedOnReturn() throws Exception {
        mcf.setClientIdentifier("false");
        TestCallers.set("alice");
        try (Connection c = ds.getConnection()) {
            assertThat(c.isClosed()).isFalse();
            // what code holding ojdbc's own connection could do (proxyra hands none out): end alice's proxy session
            physical(0).connection().close(OracleConnection.PROXY_SESSION);
        }
        assertThat(mcf.pool().discardedCount()).as("discarded on return").isEqualTo(1);
        use("alice");
        assertThat(sessionCalls(physical(1))).containsExactly(
                "openProxySession(PROXYTYPE_USER_NAME, {PROXY_USER_NAME=ALICE})");
        assertThat(mcf.pool().lentOut()).isZero();
    }

    @Test
    void anOpenTransactionIsRolledBackOnReturnNeverCommittedByTheProxySessionsEnd() throws Exception {
        mcf.setClientIdentifier("false");
        TestCallers.set("alice");
        try (Connection c = ds.getConnection()) {
            assertThat(c.isClosed()).isFalse();
            physical(0).openTransaction(); // e.g. SQL that began one, as the driver reports it
        }
        use("bob");
        assertThat(sessionCalls(physical(0))).containsExactly(
                "openProxySession(PROXYTYPE_USER_NAME, {PROXY_USER_NAME=ALICE})",
                "execute(ROLLBACK)",
                "close(PROXY_SESSION)",
                "openProxySession(PROXYTYPE_USER_NAME, {PROXY_USER_NAME=BOB})");
    }

    @Test
    void clientInfoTheApplicationSetIsRestoredAndTheCallersIdentifierSetAgain() throws Exception {
        TestCallers.set("alice");
        try (Connection c = ds.getConnection()) {
            c.setClientInfo("OCSID.CLIENTID", "mallory"); // the audit trail would name the wrong caller
        }
        use("alice");
        List<String> tags = sessionCalls(physical(0)).stream().filter(call -> call.startsWith("setClientInfo")).toList();
        assertThat(tags.get(0)).isEqualTo("setClientInfo(OCSID.CLIENTID=alice)");
        assertThat(tags.get(1)).isEqualTo("setClientInfo(OCSID.CLIENTID=mallory)");
        assertThat(tags.get(2)).as("restored on return").isEqualTo("setClientInfo(OCSID.CLIENTID=alice)");
        assertThat(tags.get(tags.size() - 1)).as("the next borrow tags the caller again")
                .isEqualTo("setClientInfo(OCSID.CLIENTID=alice)");
        assertThat(physical(0).isClosed()).isFalse();
    }

    /** JDBC's setClientInfo(Properties) replaces the whole set: what it cleared is put back on return, name by name. */
    @Test
    void clientInfoSetAsAWholeByTheApplicationLeavesUcpsAndTheCallersEntriesInPlace() throws Exception {
        TestCallers.set("alice");
        Map<String, String> before;
        try (Connection c = ds.getConnection()) {
            before = physical(0).clientInfo();
            java.util.Properties mine = new java.util.Properties();
            mine.setProperty("OCSID.MODULE", "billing");
            c.setClientInfo(mine);
            assertThat(physical(0).clientInfo()).containsOnlyKeys("OCSID.MODULE");
        }
        assertThat(before).containsKeys("ORA$HA.CONNECTION_POOL", "OCSID.CLIENTID");
        assertThat(physical(0).clientInfo()).as("on return").isEqualTo(before);
        assertThat(physical(0).calls).noneMatch(call -> call.startsWith("setClientInfo(") && call.contains(", "));
    }

    // EndToEndTags: MODULE and ACTION

    private static final ComponentLoader ERP_WEB = new ComponentLoader("erp", "erp-web.war");
    private static final ComponentLoader BILLING = new ComponentLoader("billing", "billing-ejb.jar");

    /** One lending by {@code caller} from {@code component}: runs {@code sql} (a round trip), closes. */
    private void use(ComponentLoader component, String caller, String... sql) throws Exception {
        component.run(() -> {
            TestCallers.set(caller);
            try (Connection c = ds.getConnection(); java.sql.Statement st = c.createStatement()) {
                for (String statement : sql) {
                    st.execute(statement);
                }
            }
            return null;
        });
    }

    private static List<String> tagCalls(RecordingOracleConnection fake) {
        return fake.calls.stream().filter(c -> c.startsWith("setClientInfo(OCSID.MODULE=")
                || c.startsWith("setClientInfo(OCSID.ACTION=")).toList();
    }

    /**
     * Each borrow sets MODULE and ACTION to the requesting component's application and module names; they reach the
     * server with the application's first statement, piggybacked, not on a call of their own: a warm borrow from a
     * component makes exactly as many round trips as one from a thread without names.
     */
    @Test
    void moduleAndActionNameTheComponentAndTravelWithTheNextCallAtNoExtraRoundTrip() throws Exception {
        use(ERP_WEB, "alice", "select 1 from dual");
        assertThat(physical(0).serverEndToEnd()).containsEntry("MODULE", "erp").containsEntry("ACTION", "erp-web.war")
                .containsEntry("CLIENTID", "alice");
        int roundTrips = physical(0).roundTrips();
        int piggybacked = physical(0).piggybackedTags();
        use(ERP_WEB, "alice", "select 1 from dual");
        int tagged = physical(0).roundTrips() - roundTrips;
        assertThat(physical(0).piggybackedTags()).as("the tags rode on a call the lending made anyway")
                .isEqualTo(piggybacked + 1);
        roundTrips = physical(0).roundTrips();
        use(new ComponentLoader(null, null), "alice", "select 1 from dual");
        int untagged = physical(0).roundTrips() - roundTrips;
        System.out.println("proxyra: round trips of a warm Oracle lending with one statement: " + tagged
                + " with MODULE/ACTION, " + untagged + " without names");
        assertThat(tagged).isEqualTo(untagged).isEqualTo(2); // UCP's isValid and the statement
        assertThat(mcf.pool().identitySwitches()).as("names are not part of the label: alice stayed warm").isEqualTo(1);
    }

    /** A warm session of alice serves her from another application: the names change, the proxy session does not. */
    @Test
    void aWarmSessionStaysWarmAcrossApplicationsAndCarriesTheNewOnesNames() throws Exception {
        use(ERP_WEB, "alice", "select 1 from dual");
        use(BILLING, "alice", "select 1 from dual");
        assertThat(sessionCalls(physical(0))).filteredOn(c -> c.startsWith("openProxySession") || c.startsWith("close"))
                .containsExactly("openProxySession(PROXYTYPE_USER_NAME, {PROXY_USER_NAME=ALICE})");
        assertThat(physical(0).serverEndToEnd()).containsEntry("MODULE", "billing")
                .containsEntry("ACTION", "billing-ejb.jar");
    }

    /** The names are looked up once per component (its class loader), not per request. */
    @Test
    void theNamesAreLookedUpOncePerComponent() throws Exception {
        ComponentLoader component = new ComponentLoader("inventory", "inventory.war");
        use(component, "alice");
        use(component, "bob");
        use(component, "alice");
        assertThat(component.lookups).hasValue(2); // AppName and ModuleName, once
        assertThat(tagCalls(physical(0))).containsSubsequence("setClientInfo(OCSID.MODULE=inventory)",
                "setClientInfo(OCSID.MODULE=inventory)", "setClientInfo(OCSID.MODULE=inventory)");
    }

    /** What the application set through JDBC is restored on return, and the next borrow sets proxyra's names again. */
    @Test
    void moduleAndActionTheApplicationSetAreReplacedByTheComponentsAtTheNextBorrow() throws Exception {
        ERP_WEB.run(() -> {
            TestCallers.set("alice");
            try (Connection c = ds.getConnection()) {
                c.setClientInfo("OCSID.MODULE", "month-end");
                c.setClientInfo("OCSID.ACTION", "close-books");
                c.createStatement().execute("select 1 from dual");
                assertThat(physical(0).serverEndToEnd()).containsEntry("MODULE", "month-end")
                        .containsEntry("ACTION", "close-books");
            }
            return null;
        });
        assertThat(physical(0).clientInfo()).as("restored on return").containsEntry("OCSID.MODULE", "erp")
                .containsEntry("OCSID.ACTION", "erp-web.war");
        use(ERP_WEB, "alice", "select 1 from dual");
        assertThat(physical(0).serverEndToEnd()).containsEntry("MODULE", "erp").containsEntry("ACTION", "erp-web.war");
        List<String> tags = tagCalls(physical(0));
        assertThat(tags.subList(tags.size() - 2, tags.size())).as("the next borrow tags again").containsExactly(
                "setClientInfo(OCSID.MODULE=erp)", "setClientInfo(OCSID.ACTION=erp-web.war)");
    }

    /**
     * An attacker's lending cannot leave its MODULE/ACTION on the next caller's session, whether set through JDBC or
     * through SQL the driver never sees (DBMS_APPLICATION_INFO), and whether the next caller's component has names
     * or none.
     */
    @ParameterizedTest
    @org.junit.jupiter.params.provider.CsvSource({"true,true", "true,false", "false,true", "false,false"})
    void aCallerCannotMakeTheNextCallersSessionCarryItsModuleOrAction(boolean nextHasNames, boolean alsoThroughJdbc)
            throws Exception {
        ComponentLoader attacker = new ComponentLoader(null, null);
        attacker.run(() -> {
            TestCallers.set("mallory");
            try (Connection c = ds.getConnection()) {
                if (alsoThroughJdbc) {
                    c.setClientInfo("OCSID.MODULE", "payroll");
                }
                c.createStatement().execute("begin dbms_application_info.set_module('payroll', 'approve'); end;");
            }
            return null;
        });
        assertThat(physical(0).serverEndToEnd()).containsEntry("MODULE", "payroll").containsEntry("ACTION", "approve");
        ComponentLoader next = nextHasNames ? ERP_WEB : new ComponentLoader(null, null);
        use(next, "bob", "select 1 from dual");
        if (nextHasNames) {
            assertThat(physical(0).serverEndToEnd()).containsEntry("MODULE", "erp").containsEntry("ACTION", "erp-web.war");
        } else {
            assertThat(physical(0).serverEndToEnd()).doesNotContainKeys("MODULE", "ACTION");
        }
        assertThat(physical(0).serverEndToEnd()).containsEntry("CLIENTID", "bob");
    }

    /** Past ojdbc's 64 chars the names are cut (never inside a surrogate pair), not refused. */
    @Test
    void namesLongerThanOjdbcsLimitsAreCutTo64Chars() throws Exception {
        String application = "a".repeat(63) + "\uD83D\uDE00" + "tail";
        String module = "m".repeat(80);
        use(new ComponentLoader(application, module), "alice", "select 1 from dual");
        assertThat(tagCalls(physical(0))).containsExactly("setClientInfo(OCSID.MODULE=" + "a".repeat(63) + ")",
                "setClientInfo(OCSID.ACTION=" + "m".repeat(64) + ")");
        assertThat(physical(0).calls).noneMatch(c -> c.contains("17159"));
        assertThat(physical(0).serverEndToEnd()).containsEntry("MODULE", "a".repeat(63));
    }

    /** The fake refuses as ojdbc does: past 64 chars, an unknown OCSID name, a reserved namespace. */
    @Test
    void theFakeChecksClientInfoAsOjdbcDoes() throws Exception {
        RecordingOracleConnection fake = new RecordingOracleConnection();
        Connection c = fake.connection();
        assertThatThrownBy(() -> c.setClientInfo("OCSID.MODULE", "x".repeat(65))).isInstanceOf(SQLClientInfoException.class)
                .cause().satisfies(e -> assertThat(((SQLException) e).getErrorCode()).isEqualTo(17159));
        assertThatThrownBy(() -> c.setClientInfo("OCSID.PROGRAM", "x")).isInstanceOf(SQLClientInfoException.class);
        assertThatThrownBy(() -> c.setClientInfo("UCP.MODULE", "x")).isInstanceOf(SQLClientInfoException.class);
        c.setClientInfo("OCSID.MODULE", "x".repeat(64));
        assertThat(fake.roundTrips()).as("setClientInfo is no round trip").isZero();
        c.setClientInfo("OCSID.ACTION", null);
        c.rollback();
        assertThat(fake.serverEndToEnd()).containsEntry("MODULE", "x".repeat(64));
        assertThat(fake.piggybackedTags()).isEqualTo(1);
    }

    /** EndToEndTags=NONE: proxyra neither looks the names up nor sets MODULE or ACTION. */
    @Test
    void endToEndTagsNoneSetsNeitherModuleNorAction() throws Exception {
        mcf.setEndToEndTags("NONE");
        ComponentLoader component = new ComponentLoader("erp", "erp-web.war");
        use(component, "alice", "select 1 from dual");
        use(component, "bob", "select 1 from dual");
        assertThat(tagCalls(physical(0))).isEmpty();
        assertThat(component.lookups).hasValue(0);
        assertThat(physical(0).serverEndToEnd()).doesNotContainKeys("MODULE", "ACTION").containsEntry("CLIENTID", "bob");
    }

    /**
     * Without names (outside a container, or a server thread without the component's namespace) the session carries
     * no MODULE or ACTION; a naming provider that knows neither name is asked again next time, not taken as final.
     */
    @Test
    void absentNamesLeaveNoModuleOrAction() throws Exception {
        ComponentLoader nameless = new ComponentLoader(null, null);
        use(nameless, "alice", "select 1 from dual");
        use(nameless, "alice", "select 1 from dual");
        assertThat(nameless.lookups).as("not cached as final").hasValue(4);
        use(ERP_WEB, "alice", "select 1 from dual");
        use(new ComponentLoader(null, null), "alice", "select 1 from dual");
        assertThat(physical(0).serverEndToEnd()).as("the previous lending's names are not left").doesNotContainKeys(
                "MODULE", "ACTION");
        assertThat(physical(0).clientInfo()).containsEntry("OCSID.MODULE", "").containsEntry("OCSID.ACTION", "");
    }

    @FunctionalInterface
    interface ThrowingCall {
        void run() throws Exception;
    }
}
