package dev.proxyra.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Level;

import javax.sql.XAConnection;
import javax.transaction.xa.XAException;
import javax.transaction.xa.XAResource;
import javax.transaction.xa.Xid;

import jakarta.resource.ResourceException;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import dev.proxyra.dialect.PostgresTwoPhase;
import dev.proxyra.jdbc.ProxyraDataSource;
import dev.proxyra.testing.Database;
import dev.proxyra.testing.Factories;
import dev.proxyra.testing.Sessions;
import dev.proxyra.testing.LogCapture;
import dev.proxyra.testing.PostgresExtension;
import dev.proxyra.testing.TestCallers;
import dev.proxyra.testing.XaBranches;

/**
 * XA on the embedded PostgreSQL, driven as a transaction manager and a server drive a managed connection: the branch
 * runs and is prepared as the caller, is finished as its owner on any managed connection of the pool and by recovery
 * from a new factory, and what proxyra cannot finish is reported with the SQL an operator runs. Every branch a test
 * leaves prepared is rolled back after it (a leftover holds its locks).
 */
@ExtendWith(PostgresExtension.class)
class XaTransactionTest {
    /** The formatId of this test's xids, so that cleanup touches only its own branches. */
    static final int FORMAT_ID = 0x50585841;
    private static final AtomicLong NEXT = new AtomicLong(System.nanoTime());

    private Database db;
    private final List<ProxyraManagedConnectionFactory> factories = new ArrayList<>();
    private final List<ProxyraManagedConnection> managed = new ArrayList<>();

    @BeforeAll
    static void schema(Database db) throws SQLException {
        db.execute("CREATE TABLE IF NOT EXISTS xa_notes (id serial PRIMARY KEY, owner name NOT NULL DEFAULT current_user,"
                + " body text NOT NULL);"
                + " ALTER TABLE xa_notes ENABLE ROW LEVEL SECURITY;"
                + " DROP POLICY IF EXISTS own_rows ON xa_notes;"
                + " CREATE POLICY own_rows ON xa_notes USING (owner = current_user) WITH CHECK (owner = current_user);"
                + " GRANT SELECT, INSERT, UPDATE, DELETE ON xa_notes TO callers;"
                + " GRANT USAGE ON SEQUENCE xa_notes_id_seq TO callers;"
                + " DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'xa_outsider') THEN"
                + " CREATE ROLE xa_outsider NOLOGIN IN ROLE callers; END IF; END $$");
    }

    /** The XA pool of most tests (a test may make more). */
    private ProxyraManagedConnectionFactory mcf;

    /**
     * Every pool of these tests is closed: no session of the proxy account stays (a backend leaves pg_stat_activity
     * asynchronously, after it processed its closed socket; the database sleeps between the polls).
     */
    @AfterAll
    static void noSessionLeft(Database db) throws SQLException {
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(10);
        while (db.proxySessions() > 0 && System.nanoTime() < deadline) {
            db.queryInt("select 1 from pg_sleep(0.05)");
        }
        assertThat(db.proxySessions()).as("sessions of the proxy account left by the XA tests").isZero();
    }

    @BeforeEach
    void open(Database db) {
        this.db = db;
        mcf = xaFactory();
    }

    @AfterEach
    void close() throws Exception {
        TestCallers.set(null);
        for (ProxyraManagedConnection mc : managed) {
            mc.destroy();
        }
        for (ProxyraManagedConnectionFactory f : factories) {
            f.close();
        }
        // what a test left prepared would hold its locks for every later test
        try (Connection su = db.superuser(); Statement s = su.createStatement()) {
            List<String> left = new ArrayList<>();
            try (ResultSet rs = s.executeQuery("select gid from pg_prepared_xacts where gid like '" + FORMAT_ID + "\\_%'")) {
                while (rs.next()) {
                    left.add(rs.getString(1));
                }
            }
            for (String gid : left) {
                s.execute("ROLLBACK PREPARED '" + gid + "'");
            }
            s.execute("DELETE FROM xa_notes");
        }
    }

    // ---- fixtures ----

    static Xid newXid() {
        return new XaBranches.TestXid(FORMAT_ID, ByteBuffer.allocate(8).putLong(NEXT.incrementAndGet()).array(), new byte[] {1});
    }

    private ProxyraManagedConnectionFactory xaFactory() {
        ProxyraManagedConnectionFactory mcf = Factories.on(db).build();
        mcf.setTransactionSupportLevel("XATransaction");
        factories.add(mcf);
        return mcf;
    }

    private ProxyraManagedConnection managed(ProxyraManagedConnectionFactory mcf) throws ResourceException {
        ProxyraManagedConnection mc = (ProxyraManagedConnection) mcf.createManagedConnection(null, null);
        managed.add(mc);
        return mc;
    }

    private static Connection handleAs(ProxyraManagedConnectionFactory mcf, ProxyraManagedConnection mc, String caller)
            throws Exception {
        return XaBranches.handleAs(mcf, mc, caller);
    }

    /** A branch on {@code c} that inserts one row, ended and prepared (XA_OK). */
    private static Xid preparedWork(XAResource xa, Connection c, String body) throws Exception {
        Xid xid = newXid();
        xa.start(xid, XAResource.TMNOFLAGS);
        insert(c, body);
        xa.end(xid, XAResource.TMSUCCESS);
        assertThat(xa.prepare(xid)).isEqualTo(XAResource.XA_OK);
        return xid;
    }

    private static void insert(Connection c, String body) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.executeUpdate("insert into xa_notes (body) values ('" + body + "')");
        }
    }

    private String preparedOwner(Xid xid) throws SQLException {
        return XaBranches.preparedOwner(db, xid);
    }

    /** owner of every committed row with that body, as the superuser sees the table. */
    private List<String> rowOwners(String body) throws SQLException {
        List<String> owners = new ArrayList<>();
        try (Connection su = db.superuser(); Statement s = su.createStatement();
             ResultSet rs = s.executeQuery("select owner from xa_notes where body = '" + body + "'")) {
            while (rs.next()) {
                owners.add(rs.getString(1));
            }
        }
        return owners;
    }

    private static int code(XAException e) {
        return e.errorCode;
    }

    // ---- the transaction manager ends the branch, never the application's SQL ----

    /**
     * The attacker's way around commit()'s refusal: COMMIT, PREPARE TRANSACTION or COMMIT PREPARED as SQL inside the
     * branch would commit work the transaction manager may roll back, or move it to a gid the manager never learns.
     * Each is refused (25000) before it reaches the database, the branch is still prepared as the caller, and the
     * manager's rollback leaves nothing.
     */
    @Test
    void sqlThatEndsTheTransactionIsRefusedInsideABranch() throws Exception {
        ProxyraManagedConnection mc = managed(mcf);
        Connection c = handleAs(mcf, mc, "alice");
        XAResource xa = mc.getXAResource();
        Xid xid = newXid();
        xa.start(xid, XAResource.TMNOFLAGS);
        insert(c, "kept-in-branch");
        for (String sql : List.of("COMMIT", "insert into xa_notes (body) values ('escaped'); COMMIT",
                "/* c */ end", "ROLLBACK", "abort", "PREPARE TRANSACTION 'mine'",
                "commit prepared '" + PostgresTwoPhase.gid(xid) + "'", "ROLLBACK PREPARED 'x'")) {
            try (Statement st = c.createStatement()) {
                assertThatThrownBy(() -> st.execute(sql)).as(sql).isInstanceOf(SQLException.class)
                        .hasFieldOrPropertyWithValue("SQLState", "25000").hasMessageContaining("transaction manager");
            }
            assertThatThrownBy(() -> c.prepareStatement(sql)).as(sql).isInstanceOf(SQLException.class);
        }
        // what a transaction may still do
        try (Statement st = c.createStatement()) {
            st.execute("SAVEPOINT s1");
            st.execute("ROLLBACK TO SAVEPOINT s1");
            st.execute("select 'a; commit', $$; end $$, \"x;commit\" from (select 1 as \"x;commit\") t");
        }
        xa.end(xid, XAResource.TMSUCCESS);
        assertThat(xa.prepare(xid)).isEqualTo(XAResource.XA_OK);
        assertThat(preparedOwner(xid)).isEqualTo("alice");
        xa.rollback(xid);
        assertThat(rowOwners("kept-in-branch")).isEmpty();
        assertThat(rowOwners("escaped")).isEmpty();
        // outside a managed transaction the application ends its own transactions as it likes
        c.setAutoCommit(false);
        try (Statement st = c.createStatement()) {
            st.execute("insert into xa_notes (body) values ('own'); COMMIT");
        }
        c.setAutoCommit(true);
        assertThat(rowOwners("own")).containsExactly("alice");
    }

    /** A gtrid past the XA limit would be prepared under a gid recovery cannot read back: refused at start. */
    @Test
    void anXidPastTheXaSizeLimitsIsRefused() throws Exception {
        ProxyraManagedConnection mc = managed(mcf);
        handleAs(mcf, mc, "alice");
        XAResource xa = mc.getXAResource();
        Xid tooLong = new XaBranches.TestXid(FORMAT_ID, new byte[65], new byte[] {1});
        assertThatThrownBy(() -> xa.start(tooLong, XAResource.TMNOFLAGS)).isInstanceOf(XAException.class)
                .extracting(e -> ((XAException) e).errorCode).isEqualTo(XAException.XAER_INVAL);
        Xid longBqual = new XaBranches.TestXid(FORMAT_ID, new byte[] {1}, new byte[65]);
        assertThatThrownBy(() -> xa.start(longBqual, XAResource.TMNOFLAGS)).isInstanceOf(XAException.class)
                .extracting(e -> ((XAException) e).errorCode).isEqualTo(XAException.XAER_INVAL);
    }

    // ---- the branch as the caller ----

    /** Payara's order: getConnection, then enlist (start). */
    @Test
    void twoPhaseCommitPreparesAndCommitsAsTheCaller() throws Exception {
        ProxyraManagedConnection mc = managed(mcf);
        Connection c = handleAs(mcf, mc, "alice");
        XAResource xa = mc.getXAResource();
        Xid xid = newXid();
        xa.start(xid, XAResource.TMNOFLAGS);
        assertThat(Sessions.whoami(c)).containsExactly("alice", Database.PROXY_USER);
        insert(c, "2pc");
        xa.end(xid, XAResource.TMSUCCESS);
        assertThat(xa.prepare(xid)).isEqualTo(XAResource.XA_OK);
        assertThat(preparedOwner(xid)).as("pg_prepared_xacts.owner between prepare and commit").isEqualTo("alice");
        assertThat(rowOwners("2pc")).as("not visible before commit").isEmpty();
        xa.commit(xid, false);
        assertThat(preparedOwner(xid)).isNull();
        assertThat(rowOwners("2pc")).containsExactly("alice");
        assertThat(c.getAutoCommit()).as("the session is back in auto-commit after the branch").isTrue();
    }

    /** WildFly's and Open Liberty's order: start before getConnection; the branch begins when the session is taken. */
    @Test
    void startBeforeGetConnectionBeginsTheBranchOnTheCallersSession() throws Exception {
        ProxyraManagedConnection mc = managed(mcf);
        XAResource xa = mc.getXAResource();
        Xid xid = newXid();
        xa.start(xid, XAResource.TMNOFLAGS);
        assertThat(mc.branch()).isEqualTo(XaBranch.ACTIVE);
        assertThat(mc.identity()).as("no session yet").isNull();
        Connection c = handleAs(mcf, mc, "bob");
        assertThat(Sessions.currentUser(c)).isEqualTo("bob");
        assertThat(c.getAutoCommit()).as("inside the branch").isFalse();
        insert(c, "wildfly-order");
        assertThatThrownBy(c::commit).isInstanceOf(SQLException.class).hasMessageContaining("not allowed inside a managed");
        xa.end(xid, XAResource.TMSUCCESS);
        assertThat(xa.prepare(xid)).isEqualTo(XAResource.XA_OK);
        assertThat(preparedOwner(xid)).isEqualTo("bob");
        xa.commit(xid, false);
        assertThat(rowOwners("wildfly-order")).containsExactly("bob");
    }

    @Test
    void rollbackOfAPreparedOrAnActiveBranchLeavesNothing() throws Exception {
        ProxyraManagedConnection mc = managed(mcf);
        Connection c = handleAs(mcf, mc, "alice");
        XAResource xa = mc.getXAResource();
        Xid prepared = preparedWork(xa, c, "rolled-back");
        xa.rollback(prepared);
        assertThat(preparedOwner(prepared)).isNull();

        Xid active = newXid();
        xa.start(active, XAResource.TMNOFLAGS);
        insert(c, "rolled-back");
        xa.rollback(active); // a transaction manager may roll back without end (timeout)
        assertThat(mc.branch()).isEqualTo(XaBranch.NONE);
        assertThat(rowOwners("rolled-back")).isEmpty();
        assertThat(c.getAutoCommit()).isTrue();
    }

    @Test
    void aBranchWhereNoStatementRanIsReadOnly() throws Exception {
        ProxyraManagedConnection mc = managed(mcf);
        XAResource xa = mc.getXAResource();
        Xid withoutSession = newXid();
        xa.start(withoutSession, XAResource.TMNOFLAGS);
        xa.end(withoutSession, XAResource.TMSUCCESS);
        assertThat(xa.prepare(withoutSession)).isEqualTo(XAResource.XA_RDONLY);

        Connection c = handleAs(mcf, mc, "alice");
        Xid withSession = newXid();
        xa.start(withSession, XAResource.TMNOFLAGS);
        xa.end(withSession, XAResource.TMSUCCESS);
        assertThat(xa.prepare(withSession)).isEqualTo(XAResource.XA_RDONLY);
        assertThat(preparedOwner(withSession)).isNull();
        assertThat(c.getAutoCommit()).isTrue();
        // and a branch that ran a statement is not
        Xid worked = preparedWork(xa, c, "worked");
        xa.commit(worked, false);
    }

    @Test
    void onePhaseCommitIsAPlainCommit() throws Exception {
        ProxyraManagedConnection mc = managed(mcf);
        Connection c = handleAs(mcf, mc, "alice");
        XAResource xa = mc.getXAResource();
        Xid xid = newXid();
        xa.start(xid, XAResource.TMNOFLAGS);
        insert(c, "one-phase");
        xa.end(xid, XAResource.TMSUCCESS);
        xa.commit(xid, true);
        assertThat(preparedOwner(xid)).isNull();
        assertThat(rowOwners("one-phase")).containsExactly("alice");
        // TMFAIL makes it roll back instead
        Xid failed = newXid();
        xa.start(failed, XAResource.TMNOFLAGS);
        insert(c, "failed-one-phase");
        xa.end(failed, XAResource.TMFAIL);
        assertThat(code(catchThrowableOfType(XAException.class, () -> xa.commit(failed, true))))
                .isEqualTo(XAException.XA_RBROLLBACK);
        assertThat(rowOwners("failed-one-phase")).isEmpty();
    }

    @Test
    void aSecondIdentityInOneBranchIsRefused() throws Exception {
        ProxyraManagedConnection mc = managed(mcf);
        Connection alice = handleAs(mcf, mc, "alice");
        XAResource xa = mc.getXAResource();
        Xid xid = newXid();
        xa.start(xid, XAResource.TMNOFLAGS);
        insert(alice, "alice-branch");
        alice.close(); // even with alice's handle closed, the branch stays alice's
        assertThatThrownBy(() -> handleAs(mcf, mc, "bob")).isInstanceOf(SQLException.class)
                .hasMessageContaining("One transaction runs as one caller")
                .extracting(e -> ((SQLException) e).getSQLState()).isEqualTo("25000");
        xa.end(xid, XAResource.TMSUCCESS);
        xa.rollback(xid);
        mc.cleanup();
    }

    @Test
    void startInsideALocalTransactionIsOutside() throws Exception {
        ProxyraManagedConnection mc = managed(mcf);
        Connection c = handleAs(mcf, mc, "alice");
        c.setAutoCommit(false);
        insert(c, "local");
        XAResource xa = mc.getXAResource();
        assertThat(code(catchThrowableOfType(XAException.class, () -> xa.start(newXid(), XAResource.TMNOFLAGS))))
                .isEqualTo(XAException.XAER_OUTSIDE);
        c.rollback();
        c.setAutoCommit(true);
        mc.getLocalTransaction().begin();
        assertThat(code(catchThrowableOfType(XAException.class, () -> xa.start(newXid(), XAResource.TMNOFLAGS))))
                .isEqualTo(XAException.XAER_OUTSIDE);
        mc.getLocalTransaction().rollback();
        // and the other way round: no local transaction inside a branch
        Xid xid = newXid();
        xa.start(xid, XAResource.TMNOFLAGS);
        assertThatThrownBy(() -> mc.getLocalTransaction().begin()).hasMessageContaining("global (XA) transaction");
        assertThatThrownBy(() -> c.setAutoCommit(true)).isInstanceOf(SQLException.class);
        xa.end(xid, XAResource.TMSUCCESS);
        xa.rollback(xid);
    }

    @Test
    void isSameRmOnlyForTheSameResource() throws Exception {
        XAResource a = managed(mcf).getXAResource();
        XAResource b = managed(mcf).getXAResource();
        assertThat(a.isSameRM(a)).isTrue();
        assertThat(a.isSameRM(b)).as("two managed connections, perhaps two callers: never one branch").isFalse();
        assertThat(b.isSameRM(a)).isFalse();
    }

    @Test
    void aLocalTransactionPoolHasNoXaResource() throws Exception {
        ProxyraManagedConnectionFactory local = Factories.on(db).build();
        factories.add(local);
        assertThatThrownBy(() -> managed(local).getXAResource()).isInstanceOf(ResourceException.class)
                .hasMessageContaining("TransactionSupportLevel=LocalTransaction");
    }

    // ---- finished anywhere, as the owner ----

    @Test
    void aBranchCommittedOnAnotherCallersManagedConnectionStillRunsAsItsOwner() throws Exception {
        ProxyraManagedConnection aliceMc = managed(mcf);
        Connection alice = handleAs(mcf, aliceMc, "alice");
        XAResource aliceXa = aliceMc.getXAResource();
        Xid xid = preparedWork(aliceXa, alice, "finished-by-bobs");
        alice.close();
        aliceMc.cleanup();

        ProxyraManagedConnection bobMc = managed(mcf);
        Connection bob = handleAs(mcf, bobMc, "bob");
        bobMc.getXAResource().commit(xid, false);
        assertThat(rowOwners("finished-by-bobs")).containsExactly("alice");
        assertThat(Sessions.currentUser(bob)).as("bob's session is untouched").isEqualTo("bob");
        try (Statement s = bob.createStatement();
             ResultSet rs = s.executeQuery("select count(*) from xa_notes where body = 'finished-by-bobs'")) {
            rs.next();
            assertThat(rs.getInt(1)).as("bob sees none of alice's rows").isZero();
        }
        bob.close();
        bobMc.cleanup();
    }

    @Test
    void anUnknownXidIsNota() throws Exception {
        XAResource xa = managed(mcf).getXAResource();
        Xid unknown = newXid();
        assertThat(code(catchThrowableOfType(XAException.class, () -> xa.commit(unknown, false))))
                .isEqualTo(XAException.XAER_NOTA);
        assertThat(code(catchThrowableOfType(XAException.class, () -> xa.rollback(unknown))))
                .isEqualTo(XAException.XAER_NOTA);
        assertThat(code(catchThrowableOfType(XAException.class, () -> xa.commit(unknown, true))))
                .isEqualTo(XAException.XAER_NOTA);
        assertThat(code(catchThrowableOfType(XAException.class, () -> xa.prepare(unknown))))
                .isEqualTo(XAException.XAER_NOTA);
        assertThat(code(catchThrowableOfType(XAException.class, () -> xa.end(unknown, XAResource.TMSUCCESS))))
                .isEqualTo(XAException.XAER_NOTA);
    }

    // ---- recovery ----

    /**
     * The server died between prepare and commit: its managed connection and pool are gone. A new factory's
     * recovery-only managed connection (no caller, no handle) lists the branch and commits it as its owner, while the
     * proxy account is no superuser.
     */
    @Test
    void crashRecoveryFinishesAnAbandonedBranchAsItsOwner() throws Exception {
        assertThat(db.queryInt("select count(*) from pg_roles where rolname = '" + Database.PROXY_USER
                + "' and rolsuper")).as("the proxy account is no superuser").isZero();
        ProxyraManagedConnectionFactory before = xaFactory();
        ProxyraManagedConnection mc = managed(before);
        Connection c = handleAs(before, mc, "alice");
        XAResource xa = mc.getXAResource();
        Xid committed = newXid();
        Xid rolledBack = newXid();
        for (Xid xid : List.of(committed, rolledBack)) {
            xa.start(xid, XAResource.TMNOFLAGS);
            insert(c, "recovered-" + (xid == committed));
            xa.end(xid, XAResource.TMSUCCESS);
            assertThat(xa.prepare(xid)).isEqualTo(XAResource.XA_OK);
        }
        mc.destroy();
        before.close();

        ProxyraManagedConnectionFactory after = xaFactory();
        ProxyraManagedConnection recovery = managed(after); // createManagedConnection(subject, null)
        assertThatThrownBy(() -> recovery.getConnection(null, null)).isInstanceOf(ResourceException.class)
                .hasMessageContaining("without a caller identity");
        XAResource rxa = recovery.getXAResource();
        List<Xid> inDoubt = Arrays.asList(rxa.recover(XAResource.TMSTARTRSCAN | XAResource.TMENDRSCAN));
        assertThat(inDoubt).contains(PostgresTwoPhase.copyOf(committed), PostgresTwoPhase.copyOf(rolledBack));
        assertThat(rxa.recover(XAResource.TMNOFLAGS)).as("no scan started: nothing more").isEmpty();
        Xid listed = inDoubt.stream().filter(x -> x.equals(PostgresTwoPhase.copyOf(committed))).findFirst().orElseThrow();
        rxa.commit(listed, false);
        rxa.rollback(PostgresTwoPhase.copyOf(rolledBack));
        assertThat(preparedOwner(committed)).isNull();
        assertThat(preparedOwner(rolledBack)).isNull();
        assertThat(rowOwners("recovered-true")).containsExactly("alice");
        assertThat(rowOwners("recovered-false")).isEmpty();
    }

    /**
     * A branch owned by a role the proxy account is not a member of, and one whose owner was dropped: listed, never
     * finished by proxyra, XAER_RMFAIL (no heuristic), and a WARNING with the exact SQL; both stay prepared.
     */
    @Test
    void branchesTheProxyCannotFinishAreListedAndReportedWithTheSql() throws Exception {
        Xid outsiders = newXid();
        Xid dropped = newXid();
        try (Connection su = db.superuser(); Statement s = su.createStatement()) {
            s.execute("SET ROLE xa_outsider; BEGIN; INSERT INTO xa_notes (body) VALUES ('outsider');"
                    + " PREPARE TRANSACTION '" + PostgresTwoPhase.gid(outsiders) + "'; RESET ROLE");
            s.execute("DROP ROLE IF EXISTS xa_gone; CREATE ROLE xa_gone NOLOGIN IN ROLE callers; GRANT xa_gone TO "
                    + Database.PROXY_USER);
            s.execute("SET ROLE xa_gone; BEGIN; INSERT INTO xa_notes (body) VALUES ('gone');"
                    + " PREPARE TRANSACTION '" + PostgresTwoPhase.gid(dropped) + "'; RESET ROLE");
            s.execute("DROP ROLE xa_gone");
        }
        assertThat(preparedOwner(outsiders)).isEqualTo("xa_outsider");
        assertThat(preparedOwner(dropped)).isNull();
        assertThat(db.queryInt("select count(*) from pg_prepared_xacts where gid = '" + PostgresTwoPhase.gid(dropped)
                + "' and owner is null")).isEqualTo(1);

        XAResource rxa = managed(xaFactory()).getXAResource();
        assertThat(Arrays.asList(rxa.recover(XAResource.TMSTARTRSCAN)))
                .contains(PostgresTwoPhase.copyOf(outsiders), PostgresTwoPhase.copyOf(dropped));
        try (LogCapture log = LogCapture.on(ProxyraManagedConnection.class.getName(), Level.WARNING)) {
            XAException notMember = catchThrowableOfType(XAException.class, () -> rxa.commit(outsiders, false));
            assertThat(code(notMember)).isEqualTo(XAException.XAER_RMFAIL);
            XAException gone = catchThrowableOfType(XAException.class, () -> rxa.rollback(dropped));
            assertThat(code(gone)).isEqualTo(XAException.XAER_RMFAIL);
            assertThat(log.messages(Level.WARNING)).anySatisfy(m -> assertThat(m)
                    .contains("COMMIT PREPARED '" + PostgresTwoPhase.gid(outsiders) + "'")
                    .contains("not a member").contains("as a superuser or as role xa_outsider"));
            assertThat(log.messages(Level.WARNING)).anySatisfy(m -> assertThat(m)
                    .contains("ROLLBACK PREPARED '" + PostgresTwoPhase.gid(dropped) + "'")
                    .contains("owner role was dropped"));
        }
        assertThat(preparedOwner(outsiders)).as("left prepared").isEqualTo("xa_outsider");
        assertThat(db.queryInt("select count(*) from pg_prepared_xacts where gid = '" + PostgresTwoPhase.gid(dropped)
                + "'")).as("left prepared").isEqualTo(1);
        assertThat(rowOwners("outsider")).isEmpty();
    }

    // ---- what a session carries on ----

    @Test
    void anActiveBranchAtCleanupIsRolledBackAndTheNextCallerSeesNothingOfIt() throws Exception {
        mcf.setMaxPoolSize(1); // the next caller gets the same session
        ProxyraManagedConnection mc = managed(mcf);
        Connection alice = handleAs(mcf, mc, "alice");
        int pid = Sessions.backendPid(alice);
        XAResource xa = mc.getXAResource();
        Xid xid = newXid();
        xa.start(xid, XAResource.TMNOFLAGS);
        insert(alice, "abandoned");
        try (LogCapture log = LogCapture.on(ProxyraManagedConnection.class.getName(), Level.WARNING)) {
            mc.cleanup();
            assertThat(log.messages(Level.WARNING)).anySatisfy(m -> assertThat(m).contains("still ACTIVE"));
        }
        assertThat(mc.branch()).isEqualTo(XaBranch.NONE);
        assertThat(preparedOwner(xid)).isNull();
        assertThat(rowOwners("abandoned")).isEmpty();
        assertThat(code(catchThrowableOfType(XAException.class, () -> xa.end(xid, XAResource.TMSUCCESS))))
                .as("the branch is gone from this managed connection").isEqualTo(XAException.XAER_NOTA);

        ProxyraManagedConnection next = managed(mcf);
        Connection bob = handleAs(mcf, next, "bob");
        assertThat(Sessions.backendPid(bob)).isEqualTo(pid);
        assertThat(bob.getAutoCommit()).isTrue();
        try (Statement s = bob.createStatement();
             ResultSet rs = s.executeQuery("select count(*), (select count(*) from pg_prepared_xacts) from xa_notes")) {
            rs.next();
            assertThat(rs.getInt(1)).isZero();
        }
        bob.close();
        next.cleanup();
    }

    /** The next caller on a managed connection reused after alice's branch cannot reach that branch's state. */
    @Test
    void bobsManagedConnectionKeepsNothingOfAlicesEndedBranch() throws Exception {
        ProxyraManagedConnection mc = managed(mcf);
        Connection alice = handleAs(mcf, mc, "alice");
        XAResource xa = mc.getXAResource();
        Xid xid = preparedWork(xa, alice, "alice-only");
        alice.close();
        mc.cleanup(); // the server reuses the managed connection for bob

        Connection bob = handleAs(mcf, mc, "bob");
        for (int flag : new int[] {XAResource.TMJOIN, XAResource.TMRESUME}) {
            assertThat(code(catchThrowableOfType(XAException.class, () -> xa.start(xid, flag))))
                    .isEqualTo(XAException.XAER_NOTA);
        }
        assertThat(code(catchThrowableOfType(XAException.class, () -> xa.end(xid, XAResource.TMSUCCESS))))
                .isEqualTo(XAException.XAER_NOTA);
        assertThat(code(catchThrowableOfType(XAException.class, () -> xa.prepare(xid))))
                .isEqualTo(XAException.XAER_NOTA);
        assertThat(bob.getAutoCommit()).isTrue();
        insert(bob, "bob-after");
        assertThat(rowOwners("bob-after")).as("bob's work is his own, outside alice's branch").containsExactly("bob");
        assertThat(preparedOwner(xid)).isEqualTo("alice");
        xa.commit(xid, false); // the transaction manager may still finish it here: as alice
        assertThat(rowOwners("alice-only")).containsExactly("alice");
        assertThat(Sessions.currentUser(bob)).isEqualTo("bob");
        bob.close();
        mc.cleanup();
    }

    @Test
    void aPrepareRefusedForATemporaryTableIsARollback() throws Exception {
        ProxyraManagedConnection mc = managed(mcf);
        Connection c = handleAs(mcf, mc, "alice");
        XAResource xa = mc.getXAResource();
        Xid xid = newXid();
        xa.start(xid, XAResource.TMNOFLAGS);
        insert(c, "with-temp");
        try (Statement s = c.createStatement()) {
            s.execute("create temporary table xa_scratch (n int)");
        }
        xa.end(xid, XAResource.TMSUCCESS);
        XAException e = catchThrowableOfType(XAException.class, () -> xa.prepare(xid));
        assertThat(code(e)).isBetween(XAException.XA_RBBASE, XAException.XA_RBEND);
        assertThat(e).hasMessageContaining("PostgreSQL rolled the branch back");
        assertThat(preparedOwner(xid)).isNull();
        assertThat(rowOwners("with-temp")).isEmpty();
        assertThat(mc.branch()).isEqualTo(XaBranch.NONE);
        assertThat(c.getAutoCommit()).isTrue();
        assertThat(Sessions.currentUser(c)).as("the session still serves").isEqualTo("alice");
    }

    /** An xid whose bytes spell a quote and SQL: the gid is base64 of them, the work commits, table x survives. */
    @Test
    void anXidCraftedWithAQuoteInjectsNothing() throws Exception {
        byte[] evil = "x'; DROP TABLE x; --".getBytes(StandardCharsets.UTF_8);
        Xid xid = new XaBranches.TestXid(FORMAT_ID, evil, evil);
        ProxyraManagedConnection mc = managed(mcf);
        Connection c = handleAs(mcf, mc, "alice");
        XAResource xa = mc.getXAResource();
        xa.start(xid, XAResource.TMNOFLAGS);
        insert(c, "evil-xid");
        xa.end(xid, XAResource.TMSUCCESS);
        assertThat(xa.prepare(xid)).isEqualTo(XAResource.XA_OK);
        assertThat(preparedOwner(xid)).isEqualTo("alice");
        managed(mcf).getXAResource().commit(xid, false); // through the look-up, too
        assertThat(rowOwners("evil-xid")).containsExactly("alice");
        assertThat(db.queryInt("select count(*) from pg_tables where tablename = 'x'")).isEqualTo(1);
    }

    /** The application cannot reach the driver's XA: no XAResource, XAConnection or pgjdbc XA class from a handle. */
    @Test
    void aHandleDoesNotUnwrapToTheDriversXa() throws Exception {
        ProxyraManagedConnection mc = managed(mcf);
        Connection c = handleAs(mcf, mc, "alice");
        for (Class<?> iface : List.of(XAResource.class, XAConnection.class, org.postgresql.xa.PGXAConnection.class,
                org.postgresql.core.BaseConnection.class, javax.sql.PooledConnection.class)) {
            assertThat(c.isWrapperFor(iface)).as(iface.getName()).isFalse();
            assertThatThrownBy(() -> c.unwrap(iface)).as(iface.getName()).isInstanceOf(SQLException.class);
        }
        org.postgresql.PGConnection pg = c.unwrap(org.postgresql.PGConnection.class);
        assertThat(pg).isNotInstanceOf(XAResource.class).isNotInstanceOf(XAConnection.class);
    }

    /** Through proxyra's DataSource too: a non-managed XA pool behaves as a local one for the application. */
    @Test
    void theDataSourceOfAnXaPoolStillServesPlainRequests() throws Exception {
        ProxyraDataSource ds = Factories.dataSource(mcf);
        assertThat(Sessions.requestAs(ds, "alice")).isPositive();
    }

    @Test
    void anXaPoolRefusesADatabaseWithoutPreparedTransactions() throws Exception {
        try (Database zero = Database.embedded().withoutPreparedTransactions().start()) {
            ProxyraManagedConnectionFactory xa = Factories.on(zero).build();
            xa.setTransactionSupportLevel("XATransaction");
            factories.add(xa);
            ProxyraDataSource ds = Factories.dataSource(xa);
            TestCallers.set("alice");
            assertThatThrownBy(ds::getConnection).isInstanceOf(SQLException.class)
                    .hasMessageContaining("max_prepared_transactions")
                    .hasMessageContaining("TransactionSupportLevel=XATransaction");
            xa.close();
            // the same database serves a LocalTransaction pool
            ProxyraManagedConnectionFactory local = Factories.on(zero).build();
            factories.add(local);
            assertThat(Sessions.requestAs(Factories.dataSource(local), "alice")).isPositive();
            local.close();
        }
    }

    @Test
    void theTransactionTimeoutIsStoredAndAppliedToTheBranch() throws Exception {
        ProxyraManagedConnection mc = managed(mcf);
        Connection c = handleAs(mcf, mc, "alice");
        XAResource xa = mc.getXAResource();
        assertThat(xa.getTransactionTimeout()).isZero();
        assertThat(xa.setTransactionTimeout(30)).isTrue();
        assertThat(xa.getTransactionTimeout()).isEqualTo(30);
        assertThat(code(catchThrowableOfType(XAException.class, () -> xa.setTransactionTimeout(-1))))
                .isEqualTo(XAException.XAER_INVAL);
        Xid xid = newXid();
        xa.start(xid, XAResource.TMNOFLAGS);
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("show transaction_timeout")) {
            rs.next();
            assertThat(rs.getString(1)).isEqualTo("30s");
        }
        xa.end(xid, XAResource.TMSUCCESS);
        assertThat(xa.prepare(xid)).as("SHOW ran in the branch").isEqualTo(XAResource.XA_OK);
        xa.commit(xid, false);
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("show transaction_timeout")) {
            rs.next();
            assertThat(rs.getString(1)).as("reset once the branch left the session").isEqualTo("0");
        }
    }

    /** An attacker's branch that switches role before PREPARE would be owned by that role: it is rolled back instead. */
    @Test
    void aBranchThatChangedItsRoleIsNotPreparedAsAnotherRole() throws Exception {
        ProxyraManagedConnection mc = managed(mcf);
        Connection c = handleAs(mcf, mc, "alice");
        XAResource xa = mc.getXAResource();
        Xid xid = newXid();
        xa.start(xid, XAResource.TMNOFLAGS);
        try (Statement s = c.createStatement()) {
            s.execute("SET ROLE bob");
        }
        insert(c, "as-bob");
        xa.end(xid, XAResource.TMSUCCESS);
        XAException e = catchThrowableOfType(XAException.class, () -> xa.prepare(xid));
        assertThat(code(e)).isEqualTo(XAException.XA_RBROLLBACK);
        assertThat(preparedOwner(xid)).isNull();
        assertThat(rowOwners("as-bob")).isEmpty();
    }

    /** The session dies before PREPARE: the branch may or may not be prepared, so XAER_RMFAIL (never RMERR). */
    @Test
    void aConnectionLostAtPrepareIsRmFailAndBreaksTheManagedConnection() throws Exception {
        ProxyraManagedConnection mc = managed(mcf);
        Connection c = handleAs(mcf, mc, "alice");
        XAResource xa = mc.getXAResource();
        Xid xid = newXid();
        xa.start(xid, XAResource.TMNOFLAGS);
        insert(c, "lost");
        int pid = Sessions.backendPid(c);
        xa.end(xid, XAResource.TMSUCCESS);
        db.queryInt("select count(pg_terminate_backend(" + pid + "))");
        assertThat(db.backendGone(pid, java.time.Duration.ofSeconds(10))).isTrue();
        XAException e = catchThrowableOfType(XAException.class, () -> xa.prepare(xid));
        assertThat(code(e)).isEqualTo(XAException.XAER_RMFAIL);
        assertThat(mc.life()).as("the fatal error went through the managed connection's funnel")
                .isEqualTo(ProxyraManagedConnection.Life.BROKEN);
        assertThat(mc.branch()).isEqualTo(XaBranch.NONE);
        assertThat(preparedOwner(xid)).isNull();
        assertThat(code(catchThrowableOfType(XAException.class, () -> managed(mcf).getXAResource().rollback(xid))))
                .as("recovery's answer: no such branch").isEqualTo(XAException.XAER_NOTA);
    }

    /**
     * The session that prepared the branch dies before the transaction manager's commit (a database restart, a
     * killed backend): the commit is tried again on another session of the pool, borrowed as the owner, and the
     * transaction manager is told it committed, instead of an XAER_RMFAIL it would carry to recovery (Payara only
     * recovers at its next start). The attacker's question: does the retry ever finish the branch as someone else,
     * or finish it the other way? The row is alice's, committed once, and a rollback asked of a lost session rolls back.
     */
    @Test
    void aCommitWhoseSessionDiedIsFinishedOnAnotherSessionAsTheOwner() throws Exception {
        ProxyraManagedConnection alices = managed(mcf);
        Xid committed = preparedOnASessionThatThenDies(alices, "alice", "retried-commit");
        alices.getXAResource().commit(committed, false);
        assertThat(preparedOwner(committed)).isNull();
        assertThat(rowOwners("retried-commit")).containsExactly("alice");

        ProxyraManagedConnection bobs = managed(mcf);
        Xid rolledBack = preparedOnASessionThatThenDies(bobs, "bob", "retried-rollback");
        bobs.getXAResource().rollback(rolledBack);
        assertThat(preparedOwner(rolledBack)).isNull();
        assertThat(rowOwners("retried-rollback")).isEmpty();
        assertThat(code(catchThrowableOfType(XAException.class, () -> bobs.getXAResource().commit(rolledBack, false))))
                .as("finished: a second try finds nothing").isEqualTo(XAException.XAER_NOTA);
    }

    /**
     * The attack on "a branch gone after a lost finish is done": someone else (here the superuser) finished the branch
     * the other way while the transaction manager's finish had lost its connection. The database is asked how the
     * branch's transaction ended (its id was recorded at PREPARE): a commit that finds it rolled back is XA_HEURRB, a
     * rollback that finds it committed is XA_HEURCOM, never a normal return.
     */
    @Test
    void aFinishThatFindsItsBranchEndedTheOtherWayBySomeoneElseReportsTheHeuristicOutcome() throws Exception {
        ProxyraManagedConnection alices = managed(mcf);
        Xid rolledBack = preparedOnASessionThatThenDies(alices, "alice", "rolled-back-meanwhile");
        db.execute("ROLLBACK PREPARED '" + PostgresTwoPhase.gid(rolledBack) + "'");
        XAException commit = catchThrowableOfType(XAException.class,
                () -> alices.getXAResource().commit(rolledBack, false));
        assertThat(code(commit)).as(String.valueOf(commit)).isEqualTo(XAException.XA_HEURRB);
        assertThat(rowOwners("rolled-back-meanwhile")).isEmpty();

        ProxyraManagedConnection bobs = managed(mcf);
        Xid committed = preparedOnASessionThatThenDies(bobs, "bob", "committed-meanwhile");
        db.execute("COMMIT PREPARED '" + PostgresTwoPhase.gid(committed) + "'");
        XAException rollback = catchThrowableOfType(XAException.class, () -> bobs.getXAResource().rollback(committed));
        assertThat(code(rollback)).as(String.valueOf(rollback)).isEqualTo(XAException.XA_HEURCOM);
        assertThat(rowOwners("committed-meanwhile")).containsExactly("bob");
    }

    /** A branch of {@code caller} prepared on {@code mc}, whose session's backend is then terminated. */
    private Xid preparedOnASessionThatThenDies(ProxyraManagedConnection mc, String caller, String body) throws Exception {
        Connection c = handleAs(mcf, mc, caller);
        Xid xid = preparedWork(mc.getXAResource(), c, body);
        int pid = Sessions.backendPid(c);
        c.close();
        db.queryInt("select count(pg_terminate_backend(" + pid + "))");
        assertThat(db.backendGone(pid, java.time.Duration.ofSeconds(10))).isTrue();
        return xid;
    }

    /**
     * The role changed by a function, which the SQL scan cannot see: IdentityCheck=VERIFY (the default) asks the
     * database before PREPARE, and the branch is rolled back instead of prepared as bob.
     */
    @Test
    void aRoleChangedOutOfTheScansSightIsCaughtBeforePrepare() throws Exception {
        db.execute("CREATE OR REPLACE FUNCTION xa_become(r text) RETURNS void LANGUAGE plpgsql AS"
                + " $$ BEGIN PERFORM set_config('ro' || 'le', r, false); END $$;"
                + " GRANT EXECUTE ON FUNCTION xa_become(text) TO callers");
        ProxyraManagedConnection mc = managed(mcf);
        Connection c = handleAs(mcf, mc, "alice");
        XAResource xa = mc.getXAResource();
        Xid xid = newXid();
        xa.start(xid, XAResource.TMNOFLAGS);
        insert(c, "before-switch");
        try (Statement s = c.createStatement()) {
            s.execute("select xa_become('bob')");
        }
        assertThat(Sessions.currentUser(c)).as("the attack worked on the session").isEqualTo("bob");
        xa.end(xid, XAResource.TMSUCCESS);
        XAException e = catchThrowableOfType(XAException.class, () -> xa.prepare(xid));
        assertThat(code(e)).isEqualTo(XAException.XA_RBROLLBACK);
        assertThat(e).hasMessageContaining("no longer runs as its caller");
        assertThat(preparedOwner(xid)).isNull();
        assertThat(rowOwners("before-switch")).isEmpty();
    }
}
