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

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import dev.proxyra.dialect.PostgresTwoPhase;
import dev.proxyra.identity.DbIdentity;
import dev.proxyra.jdbc.ConnectionHandle;
import dev.proxyra.jdbc.ProxyraDataSource;
import dev.proxyra.testing.Adapters;
import dev.proxyra.testing.EmbeddedDatabase;
import dev.proxyra.testing.LogCapture;
import dev.proxyra.testing.PostgresExtension;
import dev.proxyra.testing.TestCallers;

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

    private EmbeddedDatabase db;
    private final List<ProxyraManagedConnectionFactory> factories = new ArrayList<>();
    private final List<ProxyraManagedConnection> managed = new ArrayList<>();

    @BeforeAll
    static void schema(EmbeddedDatabase db) throws SQLException {
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

    @BeforeEach
    void open(EmbeddedDatabase db) {
        this.db = db;
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

    record TestXid(int formatId, byte[] gtrid, byte[] bqual) implements Xid {
        @Override
        public int getFormatId() {
            return formatId;
        }

        @Override
        public byte[] getGlobalTransactionId() {
            return gtrid;
        }

        @Override
        public byte[] getBranchQualifier() {
            return bqual;
        }
    }

    static Xid newXid() {
        return new TestXid(FORMAT_ID, ByteBuffer.allocate(8).putLong(NEXT.incrementAndGet()).array(), new byte[] {1});
    }

    private ProxyraManagedConnectionFactory xaFactory() {
        ProxyraManagedConnectionFactory mcf = Adapters.factory(db);
        mcf.setTransactionSupport("XATransaction");
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
        ConnectionHandle handle = (ConnectionHandle) mc.getConnection(null,
                mcf.requestFor(DbIdentity.of(caller, caller)));
        if (handle.refusal() != null) {
            throw handle.refusal();
        }
        return handle;
    }

    private static void insert(Connection c, String body) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.executeUpdate("insert into xa_notes (body) values ('" + body + "')");
        }
    }

    /** Owner of the prepared branch, as the superuser sees pg_prepared_xacts; null when there is none. */
    private String preparedOwner(Xid xid) throws SQLException {
        try (Connection su = db.superuser(); Statement s = su.createStatement();
             ResultSet rs = s.executeQuery("select owner from pg_prepared_xacts where gid = '"
                     + PostgresTwoPhase.gid(xid) + "'")) {
            return rs.next() ? rs.getString(1) : null;
        }
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

    // ---- the branch as the caller ----

    /** Payara's order: getConnection, then enlist (start). */
    @Test
    void twoPhaseCommitPreparesAndCommitsAsTheCaller() throws Exception {
        ProxyraManagedConnectionFactory mcf = xaFactory();
        ProxyraManagedConnection mc = managed(mcf);
        Connection c = handleAs(mcf, mc, "alice");
        XAResource xa = mc.getXAResource();
        Xid xid = newXid();
        xa.start(xid, XAResource.TMNOFLAGS);
        assertThat(Adapters.whoami(c)).containsExactly("alice", EmbeddedDatabase.PROXY_USER);
        insert(c, "2pc");
        xa.end(xid, XAResource.TMSUCCESS);
        assertThat(xa.prepare(xid)).isEqualTo(XAResource.XA_OK);
        assertThat(preparedOwner(xid)).as("pg_prepared_xacts.owner between prepare and commit").isEqualTo("alice");
        assertThat(rowOwners("2pc")).as("not visible before commit").isEmpty();
        xa.commit(xid, false);
        assertThat(preparedOwner(xid)).isNull();
        assertThat(rowOwners("2pc")).containsExactly("alice");
        assertThat(c.getAutoCommit()).as("the session is back in auto-commit after the branch").isTrue();
        c.close();
        mc.cleanup();
    }

    /** WildFly's and Open Liberty's order: start before getConnection; the branch begins when the session is taken. */
    @Test
    void startBeforeGetConnectionBeginsTheBranchOnTheCallersSession() throws Exception {
        ProxyraManagedConnectionFactory mcf = xaFactory();
        ProxyraManagedConnection mc = managed(mcf);
        XAResource xa = mc.getXAResource();
        Xid xid = newXid();
        xa.start(xid, XAResource.TMNOFLAGS);
        assertThat(mc.branch()).isEqualTo(XaBranch.ACTIVE);
        assertThat(mc.identity()).as("no session yet").isNull();
        Connection c = handleAs(mcf, mc, "bob");
        assertThat(Adapters.currentUser(c)).isEqualTo("bob");
        assertThat(c.getAutoCommit()).as("inside the branch").isFalse();
        insert(c, "wildfly-order");
        assertThatThrownBy(c::commit).isInstanceOf(SQLException.class).hasMessageContaining("not allowed inside a managed");
        xa.end(xid, XAResource.TMSUCCESS);
        assertThat(xa.prepare(xid)).isEqualTo(XAResource.XA_OK);
        assertThat(preparedOwner(xid)).isEqualTo("bob");
        xa.commit(xid, false);
        assertThat(rowOwners("wildfly-order")).containsExactly("bob");
        c.close();
        mc.cleanup();
    }

    @Test
    void rollbackOfAPreparedOrAnActiveBranchLeavesNothing() throws Exception {
        ProxyraManagedConnectionFactory mcf = xaFactory();
        ProxyraManagedConnection mc = managed(mcf);
        Connection c = handleAs(mcf, mc, "alice");
        XAResource xa = mc.getXAResource();
        Xid prepared = newXid();
        xa.start(prepared, XAResource.TMNOFLAGS);
        insert(c, "rolled-back");
        xa.end(prepared, XAResource.TMSUCCESS);
        assertThat(xa.prepare(prepared)).isEqualTo(XAResource.XA_OK);
        xa.rollback(prepared);
        assertThat(preparedOwner(prepared)).isNull();

        Xid active = newXid();
        xa.start(active, XAResource.TMNOFLAGS);
        insert(c, "rolled-back");
        xa.rollback(active); // a transaction manager may roll back without end (timeout)
        assertThat(mc.branch()).isEqualTo(XaBranch.NONE);
        assertThat(rowOwners("rolled-back")).isEmpty();
        assertThat(c.getAutoCommit()).isTrue();
        c.close();
        mc.cleanup();
    }

    @Test
    void aBranchWhereNoStatementRanIsReadOnly() throws Exception {
        ProxyraManagedConnectionFactory mcf = xaFactory();
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
        Xid worked = newXid();
        xa.start(worked, XAResource.TMNOFLAGS);
        insert(c, "worked");
        xa.end(worked, XAResource.TMSUCCESS);
        assertThat(xa.prepare(worked)).isEqualTo(XAResource.XA_OK);
        xa.commit(worked, false);
        c.close();
        mc.cleanup();
    }

    @Test
    void onePhaseCommitIsAPlainCommit() throws Exception {
        ProxyraManagedConnectionFactory mcf = xaFactory();
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
        c.close();
        mc.cleanup();
    }

    @Test
    void aSecondIdentityInOneBranchIsRefused() throws Exception {
        ProxyraManagedConnectionFactory mcf = xaFactory();
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
        ProxyraManagedConnectionFactory mcf = xaFactory();
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
        c.close();
        mc.cleanup();
    }

    @Test
    void isSameRmOnlyForTheSameResource() throws Exception {
        ProxyraManagedConnectionFactory mcf = xaFactory();
        XAResource a = managed(mcf).getXAResource();
        XAResource b = managed(mcf).getXAResource();
        assertThat(a.isSameRM(a)).isTrue();
        assertThat(a.isSameRM(b)).as("two managed connections, perhaps two callers: never one branch").isFalse();
        assertThat(b.isSameRM(a)).isFalse();
    }

    @Test
    void aLocalTransactionPoolHasNoXaResource() throws Exception {
        ProxyraManagedConnectionFactory mcf = Adapters.factory(db);
        factories.add(mcf);
        assertThatThrownBy(() -> managed(mcf).getXAResource()).isInstanceOf(ResourceException.class)
                .hasMessageContaining("TransactionSupport=LocalTransaction");
    }

    // ---- finished anywhere, as the owner ----

    @Test
    void aBranchCommittedOnAnotherCallersManagedConnectionStillRunsAsItsOwner() throws Exception {
        ProxyraManagedConnectionFactory mcf = xaFactory();
        ProxyraManagedConnection aliceMc = managed(mcf);
        Connection alice = handleAs(mcf, aliceMc, "alice");
        XAResource aliceXa = aliceMc.getXAResource();
        Xid xid = newXid();
        aliceXa.start(xid, XAResource.TMNOFLAGS);
        insert(alice, "finished-by-bobs");
        aliceXa.end(xid, XAResource.TMSUCCESS);
        assertThat(aliceXa.prepare(xid)).isEqualTo(XAResource.XA_OK);
        alice.close();
        aliceMc.cleanup();

        ProxyraManagedConnection bobMc = managed(mcf);
        Connection bob = handleAs(mcf, bobMc, "bob");
        bobMc.getXAResource().commit(xid, false);
        assertThat(rowOwners("finished-by-bobs")).containsExactly("alice");
        assertThat(Adapters.currentUser(bob)).as("bob's session is untouched").isEqualTo("bob");
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
        ProxyraManagedConnectionFactory mcf = xaFactory();
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
        assertThat(db.queryInt("select count(*) from pg_roles where rolname = '" + EmbeddedDatabase.PROXY_USER
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
                    + EmbeddedDatabase.PROXY_USER);
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
        ProxyraManagedConnectionFactory mcf = xaFactory();
        mcf.setMaxPoolSize(1); // the next caller gets the same session
        ProxyraManagedConnection mc = managed(mcf);
        Connection alice = handleAs(mcf, mc, "alice");
        int pid = Adapters.backendPid(alice);
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
        assertThat(Adapters.backendPid(bob)).isEqualTo(pid);
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
        ProxyraManagedConnectionFactory mcf = xaFactory();
        ProxyraManagedConnection mc = managed(mcf);
        Connection alice = handleAs(mcf, mc, "alice");
        XAResource xa = mc.getXAResource();
        Xid xid = newXid();
        xa.start(xid, XAResource.TMNOFLAGS);
        insert(alice, "alice-only");
        xa.end(xid, XAResource.TMSUCCESS);
        assertThat(xa.prepare(xid)).isEqualTo(XAResource.XA_OK);
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
        assertThat(Adapters.currentUser(bob)).isEqualTo("bob");
        bob.close();
        mc.cleanup();
    }

    @Test
    void aPrepareRefusedForATemporaryTableIsARollback() throws Exception {
        ProxyraManagedConnectionFactory mcf = xaFactory();
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
        assertThat(Adapters.currentUser(c)).as("the session still serves").isEqualTo("alice");
        c.close();
        mc.cleanup();
    }

    /** An xid whose bytes spell a quote and SQL: the gid is base64 of them, the work commits, table x survives. */
    @Test
    void anXidCraftedWithAQuoteInjectsNothing() throws Exception {
        byte[] evil = "x'; DROP TABLE x; --".getBytes(StandardCharsets.UTF_8);
        Xid xid = new TestXid(FORMAT_ID, evil, evil);
        ProxyraManagedConnectionFactory mcf = xaFactory();
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
        c.close();
        mc.cleanup();
    }

    /** The application cannot reach the driver's XA: no XAResource, XAConnection or pgjdbc XA class from a handle. */
    @Test
    void aHandleDoesNotUnwrapToTheDriversXa() throws Exception {
        ProxyraManagedConnectionFactory mcf = xaFactory();
        ProxyraManagedConnection mc = managed(mcf);
        Connection c = handleAs(mcf, mc, "alice");
        for (Class<?> iface : List.of(XAResource.class, XAConnection.class, org.postgresql.xa.PGXAConnection.class,
                org.postgresql.core.BaseConnection.class, javax.sql.PooledConnection.class)) {
            assertThat(c.isWrapperFor(iface)).as(iface.getName()).isFalse();
            assertThatThrownBy(() -> c.unwrap(iface)).as(iface.getName()).isInstanceOf(SQLException.class);
        }
        org.postgresql.PGConnection pg = c.unwrap(org.postgresql.PGConnection.class);
        assertThat(pg).isNotInstanceOf(XAResource.class).isNotInstanceOf(XAConnection.class);
        c.close();
        mc.cleanup();
    }

    /** Through proxyra's DataSource too: a non-managed XA pool behaves as a local one for the application. */
    @Test
    void theDataSourceOfAnXaPoolStillServesPlainRequests() throws Exception {
        ProxyraManagedConnectionFactory mcf = xaFactory();
        ProxyraDataSource ds = Adapters.dataSource(mcf);
        assertThat(Adapters.requestAs(ds, "alice")).isPositive();
    }

    @Test
    void anXaPoolRefusesADatabaseWithoutPreparedTransactions() throws Exception {
        try (EmbeddedDatabase zero = EmbeddedDatabase.startWithoutPreparedTransactions()) {
            ProxyraManagedConnectionFactory mcf = Adapters.factory(zero);
            mcf.setTransactionSupport("XATransaction");
            factories.add(mcf);
            ProxyraDataSource ds = Adapters.dataSource(mcf);
            TestCallers.set("alice");
            assertThatThrownBy(ds::getConnection).isInstanceOf(SQLException.class)
                    .hasMessageContaining("max_prepared_transactions")
                    .hasMessageContaining("TransactionSupport=XATransaction");
            mcf.close();
            // the same database serves a LocalTransaction pool
            ProxyraManagedConnectionFactory local = Adapters.factory(zero);
            factories.add(local);
            assertThat(Adapters.requestAs(Adapters.dataSource(local), "alice")).isPositive();
            local.close();
        }
    }

    @Test
    void theTransactionTimeoutIsStoredAndAppliedToTheBranch() throws Exception {
        ProxyraManagedConnectionFactory mcf = xaFactory();
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
        c.close();
        mc.cleanup();
    }
}
