package dev.proxyra.it;

import static dev.proxyra.testing.Adapters.backendPid;
import static dev.proxyra.testing.Adapters.currentUser;
import static jakarta.resource.spi.ConnectionEvent.CONNECTION_CLOSED;
import static jakarta.resource.spi.ConnectionEvent.CONNECTION_ERROR_OCCURRED;
import static jakarta.resource.spi.ConnectionEvent.LOCAL_TRANSACTION_COMMITTED;
import static jakarta.resource.spi.ConnectionEvent.LOCAL_TRANSACTION_ROLLEDBACK;
import static jakarta.resource.spi.ConnectionEvent.LOCAL_TRANSACTION_STARTED;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

import jakarta.resource.ResourceException;
import jakarta.resource.spi.ManagedConnection;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import dev.proxyra.identity.DbIdentity;
import dev.proxyra.jdbc.ProxyraDataSource;
import dev.proxyra.pool.IdentityPool;
import dev.proxyra.spi.IdentityRequest;
import dev.proxyra.spi.ProxyraManagedConnectionFactory;
import dev.proxyra.testing.Adapters;
import dev.proxyra.testing.EmbeddedDatabase;
import dev.proxyra.testing.PostgresExtension;
import dev.proxyra.testing.RecordingListener;
import dev.proxyra.testing.TestCallers;

/**
 * The managed connection as an application server drives it (create, enlist, hand out, clean up),
 * on a real PostgreSQL: transactions, events, state restoration, fatal errors, role escapes.
 */
@ExtendWith(PostgresExtension.class)
class ManagedConnectionTest {
    private static final IdentityRequest ALICE = new IdentityRequest(DbIdentity.of("alice", "alice"));
    private static final IdentityRequest BOB = new IdentityRequest(DbIdentity.of("bob", "bob"));

    private EmbeddedDatabase db;
    private ProxyraManagedConnectionFactory mcf;
    private final RecordingListener events = new RecordingListener();

    @BeforeEach
    void setUp(EmbeddedDatabase db) {
        this.db = db;
        mcf = Adapters.factory(db);
    }

    @AfterEach
    void tearDown() {
        TestCallers.set(null);
        mcf.close();
    }

    private ManagedConnection managed() throws ResourceException {
        ManagedConnection mc = mcf.createManagedConnection(null, null);
        mc.addConnectionEventListener(events);
        return mc;
    }

    private static int count(Connection c, String where) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("select count(*) from notes where " + where)) {
            rs.next();
            return rs.getInt(1);
        }
    }

    private int countAsSuperuser(String where) throws SQLException {
        try (Connection c = db.superuser()) {
            return count(c, where);
        }
    }

    @Test
    void localTransactionCommitPersistsAndRollbackLeavesNothing() throws Exception {
        ManagedConnection mc = managed();
        mc.getLocalTransaction().begin();
        try (Connection c = (Connection) mc.getConnection(null, ALICE)) {
            assertThat(c.getAutoCommit()).isFalse();
            try (Statement s = c.createStatement()) {
                s.executeUpdate("insert into notes(body) values ('committed by alice')");
            }
            assertThatThrownBy(c::commit).hasMessageContaining("not allowed inside a managed transaction")
                    .extracting(e -> ((SQLException) e).getSQLState()).isEqualTo("25000");
            assertThatThrownBy(() -> c.setAutoCommit(true)).hasMessageContaining("not allowed inside a managed transaction");
        }
        assertThat(countAsSuperuser("body = 'committed by alice'")).isZero();
        mc.getLocalTransaction().commit();
        assertThat(countAsSuperuser("body = 'committed by alice' and owner = 'alice'")).isEqualTo(1);
        mc.cleanup();

        mc.getLocalTransaction().begin();
        try (Connection c = (Connection) mc.getConnection(null, ALICE)) {
            try (Statement s = c.createStatement()) {
                s.executeUpdate("insert into notes(body) values ('rolled back')");
            }
        }
        mc.getLocalTransaction().rollback();
        mc.cleanup();
        assertThat(countAsSuperuser("body = 'rolled back'")).isZero();
        // The server's own begin/commit are not application demarcation: only handle-close events.
        assertThat(events.ids()).containsOnly(CONNECTION_CLOSED);
        mc.destroy();
        assertThat(mcf.pool().lentOut()).isZero();
    }

    @Test
    void aTransactionNeverChangesIdentity() throws Exception {
        ManagedConnection mc = managed();
        mc.getLocalTransaction().begin();
        Connection alice = (Connection) mc.getConnection(null, ALICE);
        assertThat(currentUser(alice)).isEqualTo("alice");
        alice.close();
        assertThatThrownBy(() -> mc.getConnection(null, BOB))
                .isInstanceOf(ResourceException.class)
                .hasMessageContaining("cannot also run as 'bob'");
        Connection again = (Connection) mc.getConnection(null, ALICE);
        assertThat(currentUser(again)).isEqualTo("alice");
        again.close();
        mc.getLocalTransaction().rollback();
        mc.cleanup();
        // Between uses the same managed connection may serve another identity.
        try (Connection bob = (Connection) mc.getConnection(null, BOB)) {
            assertThat(currentUser(bob)).isEqualTo("bob");
        }
        mc.cleanup();
        mc.destroy();
    }

    @Test
    void twoHandlesInOneTransactionShareOneSession() throws Exception {
        ManagedConnection mc = managed();
        mc.getLocalTransaction().begin();
        Connection first = (Connection) mc.getConnection(null, ALICE);
        Connection second = (Connection) mc.getConnection(null, ALICE);
        assertThat(backendPid(first)).isEqualTo(backendPid(second));
        first.close();
        second.close();
        mc.getLocalTransaction().commit();
        mc.cleanup();
        mc.destroy();
    }

    @Test
    void applicationDemarcationSendsLocalTransactionEvents() throws Exception {
        ManagedConnection mc = managed();
        Connection c = (Connection) mc.getConnection(null, ALICE);
        c.setAutoCommit(false);
        try (Statement s = c.createStatement()) {
            s.executeUpdate("insert into notes(body) values ('app tx 1')");
        }
        c.commit();
        try (Statement s = c.createStatement()) {
            s.executeUpdate("insert into notes(body) values ('app tx 2')");
        }
        c.rollback();
        c.setAutoCommit(true);
        c.close();
        assertThat(events.ids()).containsExactly(LOCAL_TRANSACTION_STARTED, LOCAL_TRANSACTION_COMMITTED,
                LOCAL_TRANSACTION_STARTED, LOCAL_TRANSACTION_ROLLEDBACK, LOCAL_TRANSACTION_STARTED,
                LOCAL_TRANSACTION_COMMITTED, CONNECTION_CLOSED);
        assertThat(events.events.get(events.events.size() - 1).getConnectionHandle()).isSameAs(c);
        assertThat(countAsSuperuser("body = 'app tx 1'")).isEqualTo(1);
        assertThat(countAsSuperuser("body = 'app tx 2'")).isZero();
        mc.cleanup();
        mc.destroy();
    }

    @Test
    void cleanupRollsBackOpenWorkAndRestoresAutoCommitIsolationAndReadOnly() throws Exception {
        mcf.setMaxPoolSize(1); // one physical connection: the next use must see the restored state
        ManagedConnection mc = managed();
        Connection c = (Connection) mc.getConnection(null, ALICE);
        int pid = backendPid(c);
        c.setAutoCommit(false);
        c.setTransactionIsolation(Connection.TRANSACTION_SERIALIZABLE);
        c.setReadOnly(true);
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("select count(*) from notes")) {
            rs.next();
        }
        mc.cleanup();
        assertThat(c.isClosed()).isTrue();
        assertThatThrownBy(c::createStatement).extracting(e -> ((SQLException) e).getSQLState()).isEqualTo("08003");

        try (Connection next = (Connection) mc.getConnection(null, ALICE)) {
            assertThat(backendPid(next)).isEqualTo(pid);
            assertThat(next.getAutoCommit()).isTrue();
            assertThat(next.getTransactionIsolation()).isEqualTo(Connection.TRANSACTION_READ_COMMITTED);
            assertThat(next.isReadOnly()).isFalse();
            try (Statement s = next.createStatement(); ResultSet rs = s.executeQuery("show transaction_read_only")) {
                rs.next();
                assertThat(rs.getString(1)).isEqualTo("off");
            }
        }
        mc.cleanup();
        mc.destroy();
    }

    @Test
    void everyMethodOfAClosedHandleThrows08003() throws Exception {
        ManagedConnection mc = managed();
        Connection c = (Connection) mc.getConnection(null, ALICE);
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("select 1");
        c.close();
        assertThat(s.isClosed()).isTrue();
        assertThat(rs.isClosed()).isTrue();
        for (ThrowingCall call : new ThrowingCall[] {c::createStatement, () -> c.prepareStatement("select 1"),
                c::getMetaData, c::commit, c::getAutoCommit, () -> c.setReadOnly(true), () -> s.executeQuery("select 1"),
                rs::next, () -> rs.getString(1), c::getSchema}) {
            assertThatThrownBy(call::run).isInstanceOf(SQLException.class)
                    .extracting(e -> ((SQLException) e).getSQLState()).isEqualTo("08003");
        }
        c.close(); // idempotent
        assertThat(events.ids()).containsExactly(CONNECTION_CLOSED);
        mc.cleanup();
        mc.destroy();
    }

    @Test
    void handlesNeverHandOutThePhysicalConnection() throws Exception {
        ManagedConnection mc = managed();
        try (Connection c = (Connection) mc.getConnection(null, ALICE);
             Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("select 1")) {
            assertThat(s.getConnection()).isSameAs(c);
            assertThat(rs.getStatement()).isSameAs(s);
            assertThat(c.getMetaData().getConnection()).isSameAs(c);
            assertThat(c.prepareStatement("select 1").getConnection()).isSameAs(c);
            assertThat(c.unwrap(Connection.class)).isSameAs(c);
        }
        mc.cleanup();
        mc.destroy();
    }

    @Test
    void aTerminatedBackendFiresTheErrorEventAndTheNextBorrowSucceeds() throws Exception {
        IdentityPool pool = mcf.pool();
        ManagedConnection mc = managed();
        Connection c = (Connection) mc.getConnection(null, ALICE);
        int pid = backendPid(c);
        db.execute("select pg_terminate_backend(" + pid + ")");
        assertThatThrownBy(() -> currentUser(c)).isInstanceOf(SQLException.class)
                .extracting(e -> ((SQLException) e).getSQLState()).isIn("57P01", "08006", "08003");
        assertThat(events.ids()).contains(CONNECTION_ERROR_OCCURRED);
        assertThat(events.events.get(0).getException()).isInstanceOf(SQLException.class);
        // The server destroys a managed connection after an error event.
        mc.destroy();
        assertThat(pool.lentOut()).isZero();
        assertThat(pool.discardedCount()).isEqualTo(1);

        ManagedConnection next = managed();
        try (Connection c2 = (Connection) next.getConnection(null, ALICE)) {
            assertThat(currentUser(c2)).isEqualTo("alice");
            assertThat(backendPid(c2)).isNotEqualTo(pid);
        }
        next.cleanup();
        next.destroy();
    }

    @Test
    void idlePooledSessionsKilledByTheServerAreReplacedOnBorrow() throws Exception {
        ProxyraDataSource ds = Adapters.dataSource(mcf);
        TestCallers.set("alice");
        int pid;
        try (Connection c = ds.getConnection()) {
            pid = backendPid(c);
        }
        assertThat(db.terminateProxySessions()).isGreaterThanOrEqualTo(1);
        try (Connection c = ds.getConnection()) {
            assertThat(currentUser(c)).isEqualTo("alice");
            assertThat(backendPid(c)).isNotEqualTo(pid);
        }
    }

    @FunctionalInterface
    interface ThrowingCall {
        void run() throws Exception;
    }
}
