package dev.proxyra.reliability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.logging.Level;

import javax.transaction.xa.XAException;
import javax.transaction.xa.XAResource;
import javax.transaction.xa.Xid;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import dev.proxyra.dialect.PostgresTwoPhase;
import dev.proxyra.monitoring.Refusal;
import dev.proxyra.spi.ProxyraManagedConnection;
import dev.proxyra.spi.ProxyraManagedConnectionFactory;
import dev.proxyra.testing.Database;
import dev.proxyra.testing.Factories;
import dev.proxyra.testing.LogCapture;
import dev.proxyra.testing.LoopbackProxy;
import dev.proxyra.testing.RestartableDatabaseExtension;
import dev.proxyra.testing.XaBranches;

/**
 * Phase two of an XA commit when the connection fails under it, on a PostgreSQL that is restarted or whose answers are
 * lost on the wire (LoopbackProxy): the branch is finished as its owner on another session within the call when the
 * database is back in time, reported done when the lost COMMIT PREPARED had run, and left prepared with XAER_RMFAIL
 * (never XAER_NOTA, never a heuristic) when it cannot be finished now. The transaction manager here is the test.
 */
@ExtendWith(RestartableDatabaseExtension.class)
class XaFinishRetryTest {
    private static final int FORMAT_ID = 0x50585852;
    private static long next = System.nanoTime();

    private Database db;
    private final List<ProxyraManagedConnectionFactory> factories = new ArrayList<>();
    private final List<ProxyraManagedConnection> managed = new ArrayList<>();
    private final ExecutorService tm = Executors.newSingleThreadExecutor();

    @BeforeAll
    static void schema(Database db) throws SQLException {
        db.execute("CREATE TABLE IF NOT EXISTS xa_retry_notes (body text NOT NULL,"
                + " owner name NOT NULL DEFAULT current_user);"
                + " GRANT SELECT, INSERT ON xa_retry_notes TO callers");
    }

    @BeforeEach
    void open(Database db) {
        this.db = db;
    }

    @AfterEach
    void close() throws Exception {
        tm.shutdownNow();
        if (!db.isRunning()) {
            db.start();
        }
        for (ProxyraManagedConnection mc : managed) {
            mc.destroy();
        }
        for (ProxyraManagedConnectionFactory f : factories) {
            f.close();
        }
        try (Connection su = db.superuser(); Statement s = su.createStatement()) {
            List<String> left = new ArrayList<>();
            try (ResultSet rs = s.executeQuery("select gid from pg_prepared_xacts where gid like '" + FORMAT_ID
                    + "\\_%'")) {
                while (rs.next()) {
                    left.add(rs.getString(1));
                }
            }
            for (String gid : left) {
                s.execute("ROLLBACK PREPARED '" + gid + "'");
            }
        }
    }

    /**
     * PostgreSQL stopped after the branch was prepared, and started again while the transaction
     * manager's commit is in the call: the own session died, the commit tries sessions borrowed as alice until the
     * database is back (each borrow bounded by ConnectionWaitTimeout, at least two), and returns normally, committed
     * as alice.
     */
    @Test
    void aCommitRidesOutADatabaseRestartAndCommitsAsTheOwner() throws Exception {
        ProxyraManagedConnectionFactory mcf = xaFactory(Factories.onUrl(db.url()).waitTimeout(10));
        ProxyraManagedConnection mc = managed(mcf);
        Xid xid = preparedAs(mcf, mc, "alice", "restart-commit");
        db.stop();
        Future<?> commit = tm.submit(() -> {
            mc.getXAResource().commit(xid, false);
            return null;
        });
        // the own session was discarded: the tries on borrowed sessions begin. UCP tries to open a connection when a
        // borrow begins and then waits out ConnectionWaitTimeout, so the database that is back within it serves the
        // next try.
        await("the own session of the commit discarded", () -> fatalDiscards(mcf) >= 1);
        db.start();
        commit.get(2, TimeUnit.MINUTES);
        assertThat(preparedOwner(xid)).as("left prepared").isNull();
        assertThat(rowOwners("restart-commit")).containsExactly("alice");
        assertThat(unreachable(mcf)).as("tries that found the database down").isPositive();
        assertThat(mcf.pool().lentOut()).as("sessions the retries left borrowed").isZero();
    }

    /**
     * The database stays down for the whole ConnectionWaitTimeout: the commit gives up within the call with
     * XAER_RMFAIL (the branch stays prepared, as alice), and the transaction manager's later commit, on a new managed
     * connection as recovery would use, commits it as alice.
     */
    @Test
    void aCommitThatCannotReachTheDatabaseInTimeLeavesTheBranchPreparedForALaterCommit() throws Exception {
        ProxyraManagedConnectionFactory mcf = xaFactory(Factories.onUrl(db.url()).waitTimeout(1));
        ProxyraManagedConnection mc = managed(mcf);
        Xid xid = preparedAs(mcf, mc, "alice", "later-commit");
        db.stop();
        XAException e = catchThrowableOfType(XAException.class, () -> mc.getXAResource().commit(xid, false));
        assertThat(e.errorCode).as(String.valueOf(e)).isEqualTo(XAException.XAER_RMFAIL);
        assertThat(unreachable(mcf)).as("borrows tried after the own session died").isGreaterThanOrEqualTo(2);
        db.start();
        assertThat(preparedOwner(xid)).as("still prepared, as its owner").isEqualTo("alice");
        managed(mcf).getXAResource().commit(xid, false);
        assertThat(preparedOwner(xid)).isNull();
        assertThat(rowOwners("later-commit")).containsExactly("alice");
    }

    /**
     * The COMMIT PREPARED reached the database and ran, but its answer was lost and the connection then broke: the
     * next try finds no such branch, which means the lost one committed it. The transaction manager is told the
     * commit succeeded (XAER_NOTA would be a heuristic hazard for it), and the log says what happened.
     */
    @Test
    void aCommitWhoseAnswerWasLostIsReportedDone() throws Exception {
        try (LoopbackProxy wire = new LoopbackProxy(db.port()); LogCapture log = LogCapture.on(
                ProxyraManagedConnection.class.getName(), Level.INFO)) {
            ProxyraManagedConnectionFactory mcf = xaFactory(Factories.onUrl(wire.url()).waitTimeout(10));
            ProxyraManagedConnection mc = managed(mcf);
            Xid xid = preparedAs(mcf, mc, "alice", "lost-answer");
            wire.dropAnswers();
            Future<?> commit = tm.submit(() -> {
                mc.getXAResource().commit(xid, false);
                return null;
            });
            await("the COMMIT PREPARED ran in the database", () -> preparedOwnerQuietly(xid) == null);
            assertThat(commit).as("the answer was lost: the commit still waits").isNotDone();
            wire.cutOpenConnections();
            commit.get(2, TimeUnit.MINUTES);
            assertThat(rowOwners("lost-answer")).containsExactly("alice");
            assertThat(log.messages(Level.INFO)).anySatisfy(m -> assertThat(m)
                    .contains("branch " + PostgresTwoPhase.gid(xid))
                    .contains("the COMMIT PREPARED whose connection broke had run"));
        }
    }

    /**
     * The attacker's counterpart: a commit of a branch that was never prepared still gets XAER_NOTA, also on a managed
     * connection whose own session just died, and the branch that was prepared there is still committed as its owner:
     * a dead session is no reason to call an unknown branch done. (A finish that was sent and lost, then finds no such
     * branch, returns normally: PostgreSQL cannot say afterwards which way a gone branch ended; see docs/transactions.md.)
     */
    @Test
    void aBranchNeverPreparedIsStillUnknownAfterALostSession() throws Exception {
        ProxyraManagedConnectionFactory mcf = xaFactory(Factories.onUrl(db.url()).waitTimeout(10));
        ProxyraManagedConnection mc = managed(mcf);
        Xid prepared = preparedAs(mcf, mc, "alice", "known");
        db.terminateProxySessions();
        Xid unknown = newXid();
        XAException e = catchThrowableOfType(XAException.class, () -> mc.getXAResource().commit(unknown, false));
        assertThat(e.errorCode).as(String.valueOf(e)).isEqualTo(XAException.XAER_NOTA);
        mc.getXAResource().commit(prepared, false);
        assertThat(rowOwners("known")).containsExactly("alice");
    }

    /**
     * Every session of the pool is in use: the finish's borrow waited ConnectionWaitTimeout once and is not tried
     * again (the pool is exhausted, the database is fine: the transaction manager tries later, and then it works).
     */
    @Test
    void aFinishIsNotRetriedAgainstAnExhaustedPool() throws Exception {
        ProxyraManagedConnectionFactory mcf = xaFactory(Factories.onUrl(db.url()).maxPoolSize(2).waitTimeout(1));
        ProxyraManagedConnection alices = managed(mcf);
        Xid xid = preparedAs(mcf, alices, "alice", "exhausted");
        ProxyraManagedConnection bobs = managed(mcf);
        Connection bob = handleAs(mcf, bobs, "bob");
        ProxyraManagedConnection recovery = managed(mcf);
        XAException e = catchThrowableOfType(XAException.class, () -> recovery.getXAResource().commit(xid, false));
        assertThat(e.errorCode).as(String.valueOf(e)).isEqualTo(XAException.XAER_RMFAIL);
        assertThat(mcf.pool().metrics().refusals(Refusal.POOL_EXHAUSTED)).as("borrows tried").isOne();
        assertThat(preparedOwner(xid)).isEqualTo("alice");
        bob.close();
        bobs.cleanup();
        recovery.getXAResource().commit(xid, false);
        assertThat(rowOwners("exhausted")).containsExactly("alice");
    }

    // ---- fixtures ----

    private static synchronized Xid newXid() {
        return XaBranches.TestXid.of(FORMAT_ID, ++next);
    }

    private ProxyraManagedConnectionFactory xaFactory(Factories builder) {
        ProxyraManagedConnectionFactory mcf = builder.build();
        mcf.setTransactionSupportLevel("XATransaction");
        factories.add(mcf);
        return mcf;
    }

    private ProxyraManagedConnection managed(ProxyraManagedConnectionFactory mcf) throws Exception {
        ProxyraManagedConnection mc = (ProxyraManagedConnection) mcf.createManagedConnection(null, null);
        managed.add(mc);
        return mc;
    }

    private static Connection handleAs(ProxyraManagedConnectionFactory mcf, ProxyraManagedConnection mc, String caller)
            throws Exception {
        return XaBranches.handleAs(mcf, mc, caller);
    }

    /** A branch of {@code caller} on {@code mc} that inserts {@code body}, ended and prepared; its handle closed. */
    private static Xid preparedAs(ProxyraManagedConnectionFactory mcf, ProxyraManagedConnection mc, String caller,
            String body) throws Exception {
        Connection c = handleAs(mcf, mc, caller);
        XAResource xa = mc.getXAResource();
        Xid xid = newXid();
        xa.start(xid, XAResource.TMNOFLAGS);
        try (Statement s = c.createStatement()) {
            s.executeUpdate("insert into xa_retry_notes (body) values ('" + body + "')");
        }
        xa.end(xid, XAResource.TMSUCCESS);
        assertThat(xa.prepare(xid)).isEqualTo(XAResource.XA_OK);
        c.close();
        return xid;
    }

    private static long fatalDiscards(ProxyraManagedConnectionFactory mcf) {
        try {
            return mcf.pool().metrics().discards(dev.proxyra.monitoring.PoolMetrics.Discard.FATAL_ERROR);
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    private static long unreachable(ProxyraManagedConnectionFactory mcf) {
        try {
            return mcf.pool().metrics().refusals(Refusal.DATABASE_UNREACHABLE);
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    private String preparedOwner(Xid xid) throws SQLException {
        return XaBranches.preparedOwner(db, xid);
    }

    private String preparedOwnerQuietly(Xid xid) {
        try {
            return preparedOwner(xid);
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    private List<String> rowOwners(String body) throws SQLException {
        List<String> owners = new ArrayList<>();
        try (Connection su = db.superuser(); Statement s = su.createStatement();
             ResultSet rs = s.executeQuery("select owner from xa_retry_notes where body = '" + body + "'")) {
            while (rs.next()) {
                owners.add(rs.getString(1));
            }
        }
        return owners;
    }

    /** Waits (bounded; a pause between looks) until {@code condition} holds. */
    private static void await(String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within two minutes: " + what);
            }
            java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
        }
    }
}
