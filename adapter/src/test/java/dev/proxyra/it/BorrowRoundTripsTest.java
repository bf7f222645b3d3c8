package dev.proxyra.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import dev.proxyra.jdbc.ProxyraDataSource;
import dev.proxyra.monitoring.PoolMetrics.Discard;
import dev.proxyra.monitoring.PoolMetrics.Outcome;
import dev.proxyra.spi.ProxyraManagedConnectionFactory;
import dev.proxyra.testing.Database;
import dev.proxyra.testing.Factories;
import dev.proxyra.testing.Sessions;
import dev.proxyra.testing.LoopbackProxy;
import dev.proxyra.testing.PostgresExtension;
import dev.proxyra.testing.TestCallers;

/**
 * What a borrow costs on the wire, counted as round trips (Sync and Query messages through a loopback proxy): one,
 * the identity check of a warm session (IdentityCheck=VERIFY), the switch of another one, or, on a warm borrow that
 * makes neither, the driver's isValid (an empty query), unless ValidateConnectionOnBorrow=false. UCP's own validation
 * answers from local state. The other side: that round trip is the borrow's validation, so a session that died while
 * idle is replaced unseen on every kind of borrow, one that never served anyone included; the health check and the
 * application's isValid still ask the database.
 */
@ExtendWith(PostgresExtension.class)
class BorrowRoundTripsTest {
    private Database db;
    private LoopbackProxy wire;
    private ProxyraManagedConnectionFactory mcf;

    @BeforeEach
    void setUp(Database db) throws Exception {
        this.db = db;
        wire = new LoopbackProxy(db.port());
        mcf = factoryThroughWire();
    }

    /** One physical connection, reached through the counting proxy. */
    private ProxyraManagedConnectionFactory factoryThroughWire() {
        ProxyraManagedConnectionFactory factory = Factories.on(db).build();
        factory.setURL(wire.url());
        factory.setMaxPoolSize(1);
        return factory;
    }

    @AfterEach
    void tearDown() throws Exception {
        TestCallers.set(null);
        mcf.close();
        wire.close();
    }

    /** Round trips that taking a connection as {@code caller} and closing it unused cost. */
    private int roundTripsOfABorrow(ProxyraDataSource ds, String caller) throws SQLException {
        TestCallers.set(caller);
        int before = wire.roundTrips();
        ds.getConnection().close();
        return wire.roundTrips() - before;
    }

    @Test
    void aBorrowIsOneRoundTrip() throws Exception {
        ProxyraDataSource ds = Factories.dataSource(mcf); // IdentityCheck=VERIFY, ValidateConnectionOnBorrow=true
        Sessions.requestAs(ds, "caller001");

        assertThat(roundTripsOfABorrow(ds, "caller001")).as("warm: the identity check").isEqualTo(1);
        assertThat(roundTripsOfABorrow(ds, "caller002")).as("switch: check, role and reset in one").isEqualTo(1);
        assertThat(mcf.pool().metrics().borrows(Outcome.WARM)).isEqualTo(1);
        assertThat(mcf.pool().metrics().borrows(Outcome.SWITCHED)).isEqualTo(1);
    }

    /**
     * The switched role's own settings and the caller's application_name ride in the switch's round trip; an
     * application_name the application changed is set again with the warm borrow's identity check.
     */
    @Test
    void roleSettingsAndTheCallersApplicationNameCostNoRoundTripOfTheirOwn() throws Exception {
        db.execute("ALTER ROLE caller003 SET work_mem = '6MB'; ALTER ROLE caller003 SET statement_timeout = '33s'");
        try {
            ProxyraDataSource ds = Factories.dataSource(mcf);
            Sessions.requestAs(ds, "caller001");
            assertThat(roundTripsOfABorrow(ds, "caller003")).as("switch to a role with settings").isEqualTo(1);
            assertThat(roundTripsOfABorrow(ds, "caller003")).as("warm").isEqualTo(1);
            TestCallers.set("caller003");
            try (Connection c = ds.getConnection(); java.sql.Statement s = c.createStatement()) {
                s.execute("SET application_name = 'changed by the application'");
                try (java.sql.ResultSet rs = s.executeQuery("select current_setting('work_mem')")) {
                    rs.next();
                    assertThat(rs.getString(1)).isEqualTo("6MB");
                }
            }
            assertThat(roundTripsOfABorrow(ds, "caller003")).as("warm, application_name set again with the check")
                    .isEqualTo(1);
            assertThat(roundTripsOfABorrow(ds, "caller002")).as("switch to a role without").isEqualTo(1);
            assertThat(roundTripsOfABorrow(ds, "caller001")).as("switch to a role known to have none").isEqualTo(1);
            TestCallers.set("caller001");
            try (Connection c = ds.getConnection(); java.sql.Statement s = c.createStatement();
                 java.sql.ResultSet rs = s.executeQuery("select current_setting('application_name')")) {
                rs.next();
                assertThat(rs.getString(1)).isEqualTo("caller001");
            }
        } finally {
            db.execute("ALTER ROLE caller003 RESET ALL");
        }
    }

    @Test
    void aWarmBorrowWithoutIdentityCheckIsTheDriversValidationOrNothingWhenThatIsOff() throws Exception {
        mcf.setIdentityCheck("SCAN");
        ProxyraDataSource ds = Factories.dataSource(mcf);
        Sessions.requestAs(ds, "caller001");
        assertThat(roundTripsOfABorrow(ds, "caller001")).as("ValidateConnectionOnBorrow=true").isEqualTo(1);
        mcf.close();

        mcf = factoryThroughWire();
        mcf.setIdentityCheck("SCAN");
        mcf.setValidateConnectionOnBorrow("false");
        ds = Factories.dataSource(mcf);
        Sessions.requestAs(ds, "caller001");
        assertThat(roundTripsOfABorrow(ds, "caller001")).as("ValidateConnectionOnBorrow=false").isZero();
    }

    /** What ValidateConnectionOnBorrow=false gives up: a dead warm session reaches the application, as an error. */
    @Test
    void withoutValidationADeadWarmSessionFailsOneRequestWithAConnectionErrorAndNeverServesAgain() throws Exception {
        mcf.setIdentityCheck("SCAN");
        mcf.setValidateConnectionOnBorrow("false");
        ProxyraDataSource ds = Factories.dataSource(mcf);
        int pid = Sessions.requestAs(ds, "caller001");
        kill(pid);

        TestCallers.set("caller001");
        try (Connection c = ds.getConnection()) {
            // the driver still had the backend's last words: 57P01, terminated by an administrator; else class 08
            assertThatThrownBy(() -> Sessions.currentUser(c)).isInstanceOf(SQLException.class)
                    .extracting(e -> ((SQLException) e).getSQLState()).asString().matches("08...|57P01");
        }
        assertThat(Sessions.requestAs(ds, "caller001")).isNotEqualTo(pid);
        assertThat(mcf.pool().lentOut()).isZero();
    }

    @Test
    void theApplicationsIsValidAsksTheDatabase() throws Exception {
        ProxyraDataSource ds = Factories.dataSource(mcf);
        TestCallers.set("caller001");
        try (Connection c = ds.getConnection()) {
            assertThat(c.isValid(5)).isTrue();
            kill(Sessions.backendPid(c));
            assertThat(c.isValid(5)).as("isValid on a handle whose backend is gone").isFalse();
        }
        assertThat(mcf.pool().metrics().discards(Discard.FATAL_ERROR)).as("never lent again").isEqualTo(1);
        assertThat(Sessions.requestAs(ds, "caller001")).isPositive();
        assertThat(mcf.pool().lentOut()).isZero();
    }

    @Test
    void theHealthCheckDiscardsADeadIdleSessionAndAsksAnother() throws Exception {
        ProxyraDataSource ds = Factories.dataSource(mcf);
        kill(Sessions.requestAs(ds, "caller001"));

        assertThat(mcf.pool().checkHealth().isUp()).as("a new session answers").isTrue();
        assertThat(mcf.pool().metrics().discards(Discard.FATAL_ERROR)).as("the dead one, found by asking").isEqualTo(1);
        assertThat(Sessions.requestAs(ds, "caller001")).isPositive();
    }

    @Test
    void aSessionKilledWhileIdleIsReplacedUnseenOnAWarmBorrowWithTheIdentityCheck() throws Exception {
        assertKilledIdleSessionReplaced(Factories.dataSource(mcf), "caller001", "caller001");
    }

    @Test
    void aSessionKilledWhileIdleIsReplacedUnseenOnAWarmBorrowWithTheDriversValidation() throws Exception {
        mcf.setIdentityCheck("SCAN");
        assertKilledIdleSessionReplaced(Factories.dataSource(mcf), "caller001", "caller001");
    }

    @Test
    void aSessionKilledWhileIdleIsReplacedUnseenOnASwitch() throws Exception {
        assertKilledIdleSessionReplaced(Factories.dataSource(mcf), "caller001", "caller002");
    }

    /** The health check leaves an idle session that never served anyone: no label, no identity to check. */
    @Test
    void anUnlabelledSessionKilledWhileIdleIsReplacedUnseen() throws Exception {
        ProxyraDataSource ds = Factories.dataSource(mcf);
        assertThat(mcf.pool().checkHealth().isUp()).isTrue();
        int pid = db.queryInt("select pid from pg_stat_activity where usename = '" + Database.PROXY_USER
                + "' order by backend_start desc limit 1"); // the session the health check just opened
        kill(pid);

        assertThat(Sessions.requestAs(ds, "caller001")).isNotEqualTo(pid);
        assertThat(mcf.pool().metrics().borrows(Outcome.NEW_PHYSICAL)).isEqualTo(1);
    }

    /**
     * A firewall dropped the idle session's flow without a word, and NetworkTimeout is not set: the borrow's round trip
     * is bounded as UCP bounds its validation (ConnectionValidationTimeout, 15 s), and the session is replaced.
     */
    @Test
    @Timeout(value = 90, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD) // a hang fails
    void aSessionWhosePeerVanishedSilentlyIsReplacedWithinTheValidationTimeout() throws Exception {
        ProxyraDataSource ds = Factories.dataSource(mcf);
        int pid = Sessions.requestAs(ds, "caller001");
        wire.forgetOpenConnections();

        assertThat(Sessions.requestAs(ds, "caller001")).isNotEqualTo(pid);
        assertThat(mcf.pool().metrics().discards(Discard.FATAL_ERROR)).isEqualTo(1);
        assertThat(mcf.pool().lentOut()).isZero();
    }

    /** Finding dead sessions is not waiting for one: it is not charged to ConnectionWaitTimeout. */
    @Test
    void severalSilentlyDroppedSessionsAreReplacedEvenWhenFindingThemTakesLongerThanConnectionWaitTimeout()
            throws Exception {
        mcf.setMaxPoolSize(2);
        mcf.setNetworkTimeout(2);
        mcf.setConnectionWaitTimeout(1);
        ProxyraDataSource ds = Factories.dataSource(mcf);
        TestCallers.set("caller001");
        try (Connection first = ds.getConnection(); Connection second = ds.getConnection()) {
            assertThat(Sessions.backendPid(first)).isNotEqualTo(Sessions.backendPid(second));
        }
        wire.forgetOpenConnections();

        assertThat(Sessions.requestAs(ds, "caller001")).isPositive();
        assertThat(mcf.pool().metrics().discards(Discard.FATAL_ERROR)).as("both idle sessions").isEqualTo(2);
        assertThat(mcf.pool().lentOut()).isZero();
    }

    /** The bound on the borrow's round trip is proxyra's: the application's queries never inherit it. */
    @Test
    void theBorrowsBoundIsNeverLeftOnTheSessionTheApplicationGets() throws Exception {
        ProxyraDataSource ds = Factories.dataSource(mcf); // NetworkTimeout=0: unbounded for the application
        assertThat(networkTimeoutAs(ds, "caller001")).as("new").isZero();
        assertThat(networkTimeoutAs(ds, "caller001")).as("warm").isZero();
        assertThat(networkTimeoutAs(ds, "caller002")).as("switched").isZero();
        TestCallers.set("mallory"); // a role the proxy account may not set: refused, the session goes back
        assertThatThrownBy(ds::getConnection).isInstanceOf(SQLException.class)
                .extracting(e -> ((SQLException) e).getSQLState()).isEqualTo("28000");
        assertThat(networkTimeoutAs(ds, "caller002")).as("warm after a refusal").isZero();
        assertThat(mcf.pool().metrics().borrows(Outcome.NEW_PHYSICAL)).as("one session all along").isEqualTo(1);
        mcf.close();

        mcf = factoryThroughWire();
        mcf.setNetworkTimeout(30);
        ds = Factories.dataSource(mcf);
        assertThat(networkTimeoutAs(ds, "caller001")).as("NetworkTimeout=30").isEqualTo(30_000);
        assertThat(networkTimeoutAs(ds, "caller002")).as("NetworkTimeout=30, switched").isEqualTo(30_000);
    }

    private int networkTimeoutAs(ProxyraDataSource ds, String caller) throws SQLException {
        TestCallers.set(caller);
        try (Connection c = ds.getConnection()) {
            return c.getNetworkTimeout();
        }
    }

    /** The shortest wait allowed (ConnectionWaitTimeout=0 is refused as configuration: UCP lends nothing new then). */
    @Test
    void aDeadIdleSessionIsReplacedWithTheShortestWait() throws Exception {
        mcf.setConnectionWaitTimeout(1);
        assertKilledIdleSessionReplaced(Factories.dataSource(mcf), "caller001", "caller001");
    }

    private void assertKilledIdleSessionReplaced(ProxyraDataSource ds, String first, String then) throws Exception {
        int pid = Sessions.requestAs(ds, first);
        kill(pid);

        assertThat(Sessions.requestAs(ds, then)).isNotEqualTo(pid);
        assertThat(mcf.pool().metrics().borrows(Outcome.NEW_PHYSICAL)).as("the replacement").isEqualTo(2);
        assertThat(mcf.pool().metrics().discards(Discard.FATAL_ERROR)).as("the dead session").isEqualTo(1);
        assertThat(mcf.pool().lentOut()).isZero();
    }

    private void kill(int pid) throws SQLException {
        assertThat(db.queryInt("select pg_terminate_backend(" + pid + ")::int")).isEqualTo(1);
        assertThat(db.backendGone(pid, Duration.ofSeconds(30))).as("backend " + pid + " exited").isTrue();
    }
}
