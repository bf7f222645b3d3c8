package dev.proxyra.it;

import static dev.proxyra.testing.Sessions.backendPid;
import static dev.proxyra.testing.Sessions.currentUser;
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
import dev.proxyra.jdbc.ConnectionHandle;
import dev.proxyra.jdbc.ProxyraDataSource;
import dev.proxyra.pool.IdentityPool;
import dev.proxyra.spi.IdentityRequest;
import dev.proxyra.spi.ProxyraManagedConnectionFactory;
import dev.proxyra.testing.Database;
import dev.proxyra.testing.Factories;
import dev.proxyra.testing.PostgresExtension;
import dev.proxyra.testing.RecordingListener;
import dev.proxyra.testing.ServerLikeConnectionManager;
import dev.proxyra.testing.Sessions;
import dev.proxyra.testing.TestCallers;

/**
 * The managed connection as an application server drives it (create, enlist, hand out, clean up),
 * on a real PostgreSQL: transactions, events, state restoration, fatal errors, role escapes.
 */
@ExtendWith(PostgresExtension.class)
class ManagedConnectionTest {
    private static final IdentityRequest ALICE = new IdentityRequest(DbIdentity.of("alice", "alice"));
    private static final IdentityRequest BOB = new IdentityRequest(DbIdentity.of("bob", "bob"));

    private Database db;
    private ProxyraManagedConnectionFactory mcf;
    private final RecordingListener events = new RecordingListener();

    @BeforeEach
    void setUp(Database db) {
        this.db = db;
        mcf = Factories.on(db).build();
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
        // Refused, but the managed connection is fine: the refusal travels in the handle, with no error event.
        ConnectionHandle refused = (ConnectionHandle) mc.getConnection(null, BOB);
        assertThat((Throwable) refused.refusal()).hasMessageContaining("cannot also run as 'bob'")
                .extracting(e -> ((SQLException) e).getSQLState()).isEqualTo("25000");
        assertThatThrownBy(refused::createStatement).isSameAs(refused.refusal());
        refused.close();
        assertThat(events.ids()).doesNotContain(CONNECTION_ERROR_OCCURRED);
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
        ProxyraDataSource ds = Factories.dataSource(mcf);
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

    // ---- refusals are not connection errors ----

    @Test
    void aRefusedCallerGetsItsSqlExceptionAndTheServerSeesNoConnectionError() throws Exception {
        ServerLikeConnectionManager server = new ServerLikeConnectionManager();
        ProxyraDataSource ds = new ProxyraDataSource(mcf, server);
        for (String caller : new String[] {"carol", "mallory", "none"}) {
            TestCallers.set(caller);
            assertThatThrownBy(ds::getConnection).isInstanceOf(SQLException.class)
                    .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("28000"));
        }
        assertThat(server.errorEvents()).as("CONNECTION_ERROR_OCCURRED events").isZero();
        assertThat(server.live()).as("managed connections the server still counts as in use").isZero();
        TestCallers.set("alice");
        try (Connection c = ds.getConnection()) {
            assertThat(currentUser(c)).isEqualTo("alice");
        }
        assertThat(server.errorEvents()).isZero();
        assertThat(mcf.pool().lentOut()).isZero();
    }

    @Test
    void anUnreachableDatabaseIsReportedToTheCallerNotAsABrokenManagedConnection() throws Exception {
        mcf.setURL("jdbc:postgresql://127.0.0.1:1/postgres");
        mcf.setConnectionWaitTimeout(1);
        ServerLikeConnectionManager server = new ServerLikeConnectionManager();
        ProxyraDataSource ds = new ProxyraDataSource(mcf, server);
        TestCallers.set("alice");
        assertThatThrownBy(ds::getConnection).isInstanceOf(SQLException.class)
                .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("08001"));
        assertThat(server.errorEvents()).isZero();
        assertThat(server.live()).isZero();
    }

    // ---- local transactions ----

    @Test
    void aContainerTransactionCannotBeginWhileTheApplicationsOwnIsOpen() throws Exception {
        ManagedConnection mc = managed();
        Connection c = (Connection) mc.getConnection(null, ALICE);
        c.setAutoCommit(false);
        try (Statement s = c.createStatement()) {
            s.executeUpdate("insert into notes(body) values ('app-demarcated, never committed')");
        }
        assertThatThrownBy(() -> mc.getLocalTransaction().begin()).isInstanceOf(ResourceException.class)
                .hasMessageContaining("setAutoCommit(false)");
        c.close();
        mc.cleanup();
        assertThat(countAsSuperuser("body = 'app-demarcated, never committed'")).isZero();
        mc.destroy();
    }

    @Test
    void afterAFailedCommitTheTransactionManagersRollbackStillWorks() throws Exception {
        db.execute("CREATE TABLE IF NOT EXISTS deferred_check (id int UNIQUE DEFERRABLE INITIALLY DEFERRED);"
                + " GRANT ALL ON deferred_check TO callers; TRUNCATE deferred_check");
        ManagedConnection mc = managed();
        mc.getLocalTransaction().begin();
        try (Connection c = (Connection) mc.getConnection(null, ALICE); Statement s = c.createStatement()) {
            s.executeUpdate("insert into deferred_check values (1), (1)"); // fails only at commit
            s.executeUpdate("insert into notes(body) values ('in the failed transaction')");
        }
        assertThatThrownBy(() -> mc.getLocalTransaction().commit()).isInstanceOf(ResourceException.class)
                .hasMessageContaining("commit failed");
        mc.getLocalTransaction().rollback(); // what a transaction manager does next: must not say "no transaction"
        mc.cleanup();
        assertThat(countAsSuperuser("body = 'in the failed transaction'")).isZero();
        try (Connection c = (Connection) mc.getConnection(null, ALICE)) {
            assertThat(c.getAutoCommit()).isTrue();
        }
        mc.cleanup();
        mc.destroy();
        assertThat(events.ids()).doesNotContain(CONNECTION_ERROR_OCCURRED);
    }

    // ---- which pool a managed connection belongs to ----

    @Test
    void aManagedConnectionIsMatchedOnlyForTheProxyAccountOfItsSubject() throws Exception {
        mcf.setUser(null);
        mcf.setPassword(null);
        javax.security.auth.Subject first = subject("app_proxy");
        javax.security.auth.Subject second = subject("app_proxy2");
        ManagedConnection mc = mcf.createManagedConnection(first, null);
        try (Connection c = (Connection) mc.getConnection(first, ALICE)) {
            assertThat(Sessions.whoami(c)).containsExactly("alice", "app_proxy");
        }
        mc.cleanup();
        assertThat(mcf.matchManagedConnections(java.util.Set.of(mc), first, null)).isSameAs(mc);
        assertThat(mcf.matchManagedConnections(java.util.Set.of(mc), second, null))
                .as("a managed connection of app_proxy's pool for a request of app_proxy2").isNull();
        ManagedConnection other = mcf.createManagedConnection(second, null);
        try (Connection c = (Connection) other.getConnection(second, ALICE)) {
            assertThat(Sessions.whoami(c)).containsExactly("alice", "app_proxy2");
        }
        other.cleanup();
        other.destroy();
        mc.destroy();
    }

    private javax.security.auth.Subject subject(String user) {
        javax.security.auth.Subject s = new javax.security.auth.Subject();
        jakarta.resource.spi.security.PasswordCredential pc = new jakarta.resource.spi.security.PasswordCredential(user,
                Database.PROXY_PASSWORD.toCharArray());
        pc.setManagedConnectionFactory(mcf);
        s.getPrivateCredentials().add(pc);
        return s;
    }

    @Test
    void aFactoryWhosePropertiesChangeRetiresItsOldPoolOnceItsLastSessionReturns() throws Exception {
        ProxyraDataSource ds = Factories.dataSource(mcf);
        TestCallers.set("alice");
        IdentityPool before = mcf.pool();
        Connection held = ds.getConnection();
        mcf.setMaxPoolSize(3);
        IdentityPool after = mcf.pool();
        assertThat(after).isNotSameAs(before);
        assertThat(before.isClosed()).as("no new borrows from the old pool").isTrue();
        assertThat(Sessions.currentUser(held)).as("a session lent before the change keeps working").isEqualTo("alice");
        int pid = backendPid(held);
        held.close();
        assertThat(db.backendGone(pid, java.time.Duration.ofSeconds(30)))
                .as("the old pool's physical connection closed when it came back").isTrue();
        try (Connection c = ds.getConnection()) {
            assertThat(currentUser(c)).isEqualTo("alice");
        }
    }

    @FunctionalInterface
    interface ThrowingCall {
        void run() throws Exception;
    }
}
