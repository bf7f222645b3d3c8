package dev.proxyra.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;

import jakarta.resource.spi.ConnectionEvent;
import jakarta.resource.spi.ManagedConnection;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import org.postgresql.PGConnection;

import dev.proxyra.identity.DbIdentity;
import dev.proxyra.jdbc.ProxyraDataSource;
import dev.proxyra.monitoring.PoolMetrics.Discard;
import dev.proxyra.monitoring.PoolMetrics.Outcome;
import dev.proxyra.monitoring.Refusal;
import dev.proxyra.pool.IdentityPool;
import dev.proxyra.testing.Factories;
import dev.proxyra.testing.RecordingListener;
import dev.proxyra.testing.ServerLikeConnectionManager;
import dev.proxyra.testing.TestCallers;
import dev.proxyra.testing.fakepg.FakePgServer.Backend;
import dev.proxyra.testing.fakepg.FakePgServer.Fault;
import dev.proxyra.testing.fakepg.FakePgServer;

/**
 * The lifecycle of a managed connection as a server drives it, over the real UCP and the in-memory PostgreSQL
 * ({@link FakePgServer}): what reaches the caller, which connection events the server gets, and what becomes of the
 * physical session when the server cleans up or destroys the managed connection. {@link ServerLikeConnectionManager}
 * destroys a managed connection on an error event and cleans up on a close, as Payara does; {@link RecordingListener}
 * lets a test decide when the "server" gives the managed connection back.
 */
class ManagedConnectionLifecycleTest {
    private FakePgServer server;
    private ProxyraManagedConnectionFactory mcf;
    private ServerLikeConnectionManager cm;
    private ProxyraDataSource ds;

    @BeforeEach
    void open() {
        server = FakePgServer.start();
        mcf = Factories.onFakePg(server).maxPoolSize(2).waitTimeout(5).build();
        cm = new ServerLikeConnectionManager();
        ds = (ProxyraDataSource) mcf.createConnectionFactory(cm);
    }

    @AfterEach
    void close() throws SQLException {
        TestCallers.set(null);
        try {
            assertThat(pool().lentOut()).as("lent out after the test").isZero();
            assertThat(cm.live()).as("managed connections the server still holds").isZero();
        } finally {
            mcf.close();
            server.close();
        }
    }

    private IdentityPool pool() throws SQLException {
        return mcf.pool();
    }

    private Connection connectionAs(String caller) throws SQLException {
        TestCallers.set(caller);
        return ds.getConnection();
    }

    private Backend backendOf(Connection handle) throws SQLException {
        return server.backend(handle.unwrap(PGConnection.class).getBackendPID());
    }

    private static void run(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    @Test
    void aFatalErrorOnALentSessionFiresTheErrorEventAndTheSessionIsDiscarded() throws Exception {
        Connection c = connectionAs("alice");
        Backend b = backendOf(c);
        server.failNext("select 'doomed'", Fault.CONNECTION_LOST);

        assertThatThrownBy(() -> run(c, "select 'doomed'")).isInstanceOfSatisfying(SQLException.class,
                e -> assertThat(e.getSQLState()).isEqualTo("08006"));
        assertThat(cm.errorEvents()).isOne();
        assertThat(cm.trackedFor(c).destroyed).as("the server destroyed it on the event").isTrue();
        // Discarded at once, as a fatal error: the event fires inside the failing call, so the server's destroy also
        // finds that call still running; the broken connection decides the reason.
        assertThat(pool().lentOut()).isZero();
        assertThat(pool().metrics().discards(Discard.FATAL_ERROR)).isOne();
        assertThat(pool().metrics().discards(Discard.STATE_NOT_RESET)).isZero();
        assertThatThrownBy(() -> run(c, "select 'after'")).as("the handle died with the managed connection")
                .isInstanceOf(SQLException.class);
        assertThat(server.saw("select 'after'")).isFalse();
        c.close();

        try (Connection next = connectionAs("alice")) {
            assertThat(backendOf(next)).as("never lent again").isNotSameAs(b);
        }
    }

    @Test
    void aFatalErrorIsDiscardedWhenTheServerGivesTheManagedConnectionBackLater() throws Exception {
        ManagedConnection mc = mcf.createManagedConnection(null, null);
        RecordingListener events = new RecordingListener();
        mc.addConnectionEventListener(events);
        Connection c = (Connection) mc.getConnection(null, new IdentityRequest(DbIdentity.of("alice", "alice")));
        server.failNext("select 'doomed'", Fault.TERMINATED);

        assertThatThrownBy(() -> run(c, "select 'doomed'")).isInstanceOf(SQLException.class);
        assertThat(events.ids()).containsExactly(ConnectionEvent.CONNECTION_ERROR_OCCURRED);
        assertThat(pool().lentOut()).as("lent until the server gives it back").isOne();
        assertThat(pool().metrics().discards(Discard.FATAL_ERROR)).isZero();

        mc.cleanup();
        assertThat(pool().lentOut()).isZero();
        assertThat(pool().metrics().discards(Discard.FATAL_ERROR)).isOne();
        mc.destroy();
    }

    @Test
    void aNonFatalErrorOnALentSessionFiresNoEventAndTheSessionStaysWarm() throws Exception {
        Backend b;
        try (Connection c = connectionAs("alice")) {
            b = backendOf(c);
            server.failNext("select 'slow'", Fault.STATEMENT_TIMEOUT);
            assertThatThrownBy(() -> run(c, "select 'slow'")).isInstanceOfSatisfying(SQLException.class,
                    e -> assertThat(e.getSQLState()).isEqualTo("57014"));
            run(c, "select 'still usable'");
        }
        assertThat(cm.errorEvents()).isZero();
        try (Connection c = connectionAs("alice")) {
            assertThat(backendOf(c)).isSameAs(b);
        }
        assertThat(pool().metrics().borrows(Outcome.WARM)).isOne();
        assertThat(pool().discardedCount()).isZero();
    }

    @Test
    void aRefusedSwitchReachesTheCallerAsClass28AndNoApplicationSqlReachesTheDatabase() throws Exception {
        try (Connection c = connectionAs("alice")) {
            run(c, "select 'alice was here'");
        }
        server.refuseRole("mallory");

        assertThatThrownBy(() -> {
            try (Connection c = connectionAs("mallory")) {
                run(c, "select 'mallory app sql'");
            }
        }).isInstanceOfSatisfying(SQLException.class, e -> {
            assertThat(e.getSQLState()).isEqualTo("28000");
            assertThat(Refusal.of(e)).isEqualTo(Refusal.NOT_AUTHORIZED);
        });
        assertThat(server.saw("mallory app sql")).isFalse();
        assertThat(cm.errorEvents()).as("a refusal is no broken connection").isZero();
        assertThat(pool().metrics().refusals(Refusal.NOT_AUTHORIZED)).isOne();
        assertThat(pool().discardedCount()).isZero();
    }

    @Test
    void theRefusedHandleAServerReceivesRunsNothing() throws Exception {
        server.refuseRole("mallory");
        ManagedConnection mc = mcf.createManagedConnection(null, null);
        Connection refused = (Connection) mc.getConnection(null, new IdentityRequest(DbIdentity.of("mallory", "mallory")));
        // code that ignores how ProxyraDataSource treats the handle and uses it anyway
        assertThatThrownBy(() -> run(refused, "select 'through the refused handle'")).isInstanceOf(SQLException.class);
        assertThat(server.saw("through the refused handle")).isFalse();
        assertThat(pool().lentOut()).isZero();

        // the managed connection is as usable as before: the next request on it is served
        Connection ok = (Connection) mc.getConnection(null, new IdentityRequest(DbIdentity.of("alice", "alice")));
        assertThat(backendOf(ok).currentUser()).isEqualTo("alice");
        mc.cleanup();
        mc.destroy();
    }

    /**
     * The database failing while a fresh pool checks what the proxy account may reach (before its first lending) is an
     * unreachable database, not a configuration error: class 08 (also for 57P01, a shutdown), DATABASE_UNREACHABLE, so
     * that a caller (and an XA finish) may try again; once the database answers, the check passes and the pool lends.
     */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.EnumSource(value = Fault.class, names = {"CONNECTION_LOST", "TERMINATED"})
    void aConnectionThatBreaksDuringTheProxyAccountCheckIsAnUnreachableDatabaseNotAConfigurationError(Fault fault)
            throws Exception {
        server.failEvery("select session_user", fault);
        assertThatThrownBy(() -> connectionAs("alice")).isInstanceOfSatisfying(SQLException.class, e -> {
            assertThat(e.getSQLState()).as(e.getMessage()).startsWith("08");
            assertThat(Refusal.of(e)).isEqualTo(Refusal.DATABASE_UNREACHABLE);
            assertThat(e.getMessage()).contains("checking what the proxy account may reach");
        });
        assertThat(pool().metrics().refusals(Refusal.CONFIGURATION)).isZero();
        server.healed();
        try (Connection c = connectionAs("alice")) {
            run(c, "select 1");
        }
    }

    @Test
    void aBorrowThatFindsNoUsableSessionIsARefusalNotAnErrorEvent() throws Exception {
        try (Connection c = connectionAs("alice")) {
            run(c, "select 1");
        }
        server.failEvery("", Fault.CONNECTION_LOST);
        assertThatThrownBy(() -> connectionAs("bob")).isInstanceOfSatisfying(SQLException.class, e -> {
            assertThat(e.getSQLState()).startsWith("08");
            assertThat(Refusal.of(e)).isEqualTo(Refusal.DATABASE_UNREACHABLE);
        });
        assertThat(cm.errorEvents()).isZero();
        assertThat(pool().metrics().refusals(Refusal.DATABASE_UNREACHABLE)).isOne();
        server.healed();
    }

    @Test
    void roleChangingSqlOnALentSessionDiscardsItOnReturn() throws Exception {
        Backend b;
        try (Connection c = connectionAs("alice")) {
            b = backendOf(c);
            run(c, "SET ROLE bob");
        }
        assertThat(pool().metrics().discards(Discard.IDENTITY_CHANGED)).isOne();
        try (Connection c = connectionAs("alice")) {
            assertThat(backendOf(c)).isNotSameAs(b);
            assertThat(backendOf(c).currentUser()).isEqualTo("alice");
        }
    }

    @Test
    void anEscapeNoSqlShowedIsFoundByTheNextBorrowsCheck() throws Exception {
        Backend b;
        try (Connection c = connectionAs("alice")) {
            b = backendOf(c);
            b.escapeTo("bob"); // as a function's EXECUTE 'SET ROLE bob' would
        }
        assertThat(pool().discardedCount()).as("the return cannot see it: PostgreSQL's driver does not know the role")
                .isZero();
        try (Connection c = connectionAs("alice")) {
            assertThat(backendOf(c)).isNotSameAs(b);
            assertThat(backendOf(c).currentUser()).isEqualTo("alice");
        }
        assertThat(pool().escapesFound()).isOne();
        assertThat(pool().metrics().discards(Discard.IDENTITY_CHANGED)).isOne();
    }

    @Test
    void anOpenTransactionIsEndedOnReturnAndTheSessionStaysWarm() throws Exception {
        Backend b;
        try (Connection c = connectionAs("alice")) {
            b = backendOf(c);
            c.setAutoCommit(false);
            run(c, "select 'in a transaction'");
        }
        assertThat(pool().discardedCount()).isZero();
        try (Connection c = connectionAs("alice")) {
            assertThat(backendOf(c)).isSameAs(b);
            assertThat(c.getAutoCommit()).as("put back").isTrue();
        }
    }

    @Test
    void aRetiredPoolClosesOnceTheLastManagedConnectionGivesItsSessionBack() throws Exception {
        IdentityPool retiring = pool();
        Connection c = connectionAs("alice");
        mcf.setMaxPoolSize(3); // a changed property retires the pool
        assertThat(retiring.isClosed()).isTrue();
        assertThat(server.openBackends()).isOne();
        run(c, "select 'still served'");
        c.close();
        assertThat(retiring.lentOut()).isZero();
        assertThat(server.openBackends()).isZero();
    }
}
