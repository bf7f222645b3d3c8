package dev.proxyra.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLRecoverableException;

import jakarta.resource.spi.ConnectionEvent;
import jakarta.resource.spi.LocalTransactionException;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import dev.proxyra.identity.DbIdentity;
import dev.proxyra.spi.ProxyraManagedConnection.Demarcation;
import dev.proxyra.spi.ProxyraManagedConnection.Life;
import dev.proxyra.testing.Factories;
import dev.proxyra.testing.RecordingListener;
import oracle.jdbcfake.FakeOracleDataSource;

/**
 * The managed connection's two state machines, life and demarcation, and the connection events each move owes the
 * server; in memory, on the fake Oracle driver through UCP's real Oracle path (no database; seconds).
 */
class ManagedConnectionStatesTest {
    private static final IdentityRequest ALICE = new IdentityRequest(DbIdentity.of("ALICE", "alice"));
    private static final IdentityRequest BOB = new IdentityRequest(DbIdentity.of("BOB", "bob"));

    private ProxyraResourceAdapter ra;
    private ProxyraManagedConnectionFactory mcf;
    private ProxyraManagedConnection mc;
    private final RecordingListener events = new RecordingListener();

    @BeforeEach
    void setUp() throws Exception {
        FakeOracleDataSource.reset();
        ra = new ProxyraResourceAdapter();
        ra.start(null);
        mcf = Factories.onFakeOracle().maxPoolSize(2).resourceAdapter(ra).build();
        mc = (ProxyraManagedConnection) mcf.createManagedConnection(null, ALICE);
        mc.addConnectionEventListener(events);
    }

    @AfterEach
    void tearDown() {
        ra.stop();
    }

    private int[] eventIds() {
        return events.ids().stream().mapToInt(Integer::intValue).toArray();
    }

    @Test
    void theApplicationsLocalTransactionOwesTheServerItsEvents() throws Exception {
        Connection c = (Connection) mc.getConnection(null, ALICE);
        assertThat(mc.demarcation()).isEqualTo(Demarcation.NONE);
        c.setAutoCommit(false);
        assertThat(mc.demarcation()).isEqualTo(Demarcation.APPLICATION);
        c.setAutoCommit(false); // no move, no event
        c.commit();
        assertThat(mc.demarcation()).isEqualTo(Demarcation.APPLICATION);
        c.rollback();
        c.setAutoCommit(true);
        assertThat(mc.demarcation()).isEqualTo(Demarcation.NONE);
        assertThat(eventIds()).containsExactly(
                ConnectionEvent.LOCAL_TRANSACTION_STARTED,
                ConnectionEvent.LOCAL_TRANSACTION_COMMITTED, ConnectionEvent.LOCAL_TRANSACTION_STARTED,
                ConnectionEvent.LOCAL_TRANSACTION_ROLLEDBACK, ConnectionEvent.LOCAL_TRANSACTION_STARTED,
                ConnectionEvent.LOCAL_TRANSACTION_COMMITTED);
        c.close();
        assertThat(events.ids()).last().isEqualTo(ConnectionEvent.CONNECTION_CLOSED);
    }

    @Test
    void insideTheContainersTransactionTheApplicationCannotDemarcate() throws Exception {
        mc.getLocalTransaction().begin();
        assertThat(mc.demarcation()).isEqualTo(Demarcation.CONTAINER);
        Connection c = (Connection) mc.getConnection(null, ALICE);
        assertThatThrownBy(c::commit).isInstanceOf(SQLException.class)
                .extracting(e -> ((SQLException) e).getSQLState()).isEqualTo("25000");
        assertThatThrownBy(c::rollback).extracting(e -> ((SQLException) e).getSQLState()).isEqualTo("25000");
        assertThatThrownBy(() -> c.setAutoCommit(true)).extracting(e -> ((SQLException) e).getSQLState())
                .isEqualTo("25000");
        c.setAutoCommit(false); // already so: allowed, no event
        assertThatThrownBy(() -> mc.getLocalTransaction().begin()).isInstanceOf(LocalTransactionException.class);
        // a second caller inside the same transaction is refused, and the managed connection stays usable
        Connection refused = (Connection) mc.getConnection(null, BOB);
        assertThat(((dev.proxyra.jdbc.ConnectionHandle) refused).refusal().getSQLState()).isEqualTo("25000");
        mc.getLocalTransaction().commit();
        assertThat(mc.demarcation()).isEqualTo(Demarcation.NONE);
        assertThatThrownBy(() -> mc.getLocalTransaction().commit()).isInstanceOf(LocalTransactionException.class);
        assertThat(events.ids()).doesNotContain(ConnectionEvent.LOCAL_TRANSACTION_STARTED,
                ConnectionEvent.LOCAL_TRANSACTION_COMMITTED, ConnectionEvent.CONNECTION_ERROR_OCCURRED);
        c.close();
    }

    @Test
    void theContainerCannotBeginOverTheApplicationsTransaction() throws Exception {
        Connection c = (Connection) mc.getConnection(null, ALICE);
        c.setAutoCommit(false);
        assertThatThrownBy(() -> mc.getLocalTransaction().begin()).isInstanceOf(LocalTransactionException.class)
                .hasMessageContaining("setAutoCommit(false)");
        assertThat(mc.demarcation()).isEqualTo(Demarcation.APPLICATION);
        mc.cleanup();
        assertThat(mc.demarcation()).isEqualTo(Demarcation.NONE);
        assertThat(mc.life()).isEqualTo(Life.OPEN);
        assertThat(c.isClosed()).isTrue();
    }

    @Test
    void aFatalErrorBreaksItOnceAndItsSessionIsDiscarded() throws Exception {
        Connection c = (Connection) mc.getConnection(null, ALICE);
        FakeOracleDataSource.OPENED.get(0).failNext("commit", new SQLRecoverableException("ORA-03113: end-of-file"
                + " on communication channel", "08006", 3113));
        c.setAutoCommit(false);
        assertThatThrownBy(c::commit).isInstanceOf(SQLException.class);
        assertThat(mc.life()).isEqualTo(Life.BROKEN);
        assertThat(mc.isReusable()).isFalse();
        long errors = events.ids().stream().filter(id -> id == ConnectionEvent.CONNECTION_ERROR_OCCURRED).count();
        assertThat(errors).isEqualTo(1);
        // a second fatal error tells the server nothing new
        FakeOracleDataSource.OPENED.get(0).failNext("rollback", new SQLRecoverableException("ORA-03114: not"
                + " connected to ORACLE", "08003", 3114));
        assertThatThrownBy(c::rollback).isInstanceOf(SQLException.class);
        assertThat(events.ids().stream().filter(id -> id == ConnectionEvent.CONNECTION_ERROR_OCCURRED).count())
                .isEqualTo(1);
        long discardedBefore = mcf.pool().discardedCount();
        mc.destroy();
        assertThat(mc.life()).isEqualTo(Life.DESTROYED);
        assertThat(mcf.pool().discardedCount()).isEqualTo(discardedBefore + 1);
        assertThat(mcf.pool().lentOut()).isZero();
        assertThat(c.isClosed()).isTrue();
    }

    @Test
    void aDestroyedManagedConnectionServesNothingAndDestroyIsIdempotent() throws Exception {
        Connection c = (Connection) mc.getConnection(null, ALICE);
        mc.destroy();
        mc.destroy();
        assertThat(mc.life()).isEqualTo(Life.DESTROYED);
        assertThat(c.isClosed()).isTrue();
        assertThat(mcf.pool().lentOut()).isZero();
        assertThatThrownBy(() -> mc.getConnection(null, ALICE)).isInstanceOf(jakarta.resource.ResourceException.class);
        assertThat(mc.isReusable()).isFalse();
    }

    @Test
    void cleanupGivesTheSessionBackAndTheShellServesTheNextCallerAsThemself() throws Exception {
        Connection c = (Connection) mc.getConnection(null, ALICE);
        assertThat(mcf.pool().lentOut()).isEqualTo(1);
        mc.cleanup();
        assertThat(c.isClosed()).isTrue();
        assertThat(mcf.pool().lentOut()).isZero();
        Connection bob = (Connection) mc.getConnection(null, BOB);
        assertThat(FakeOracleDataSource.OPENED.get(0).proxyUser()).isEqualTo("BOB");
        bob.close();
        mc.cleanup();
        assertThat(mcf.pool().lentOut()).isZero();
        assertThat(mcf.pool().discardedCount()).isZero();
    }
}
