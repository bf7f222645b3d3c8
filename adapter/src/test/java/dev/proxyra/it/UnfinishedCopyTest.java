package dev.proxyra.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.StringReader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyIn;
import org.postgresql.copy.CopyOut;

import dev.proxyra.jdbc.ProxyraDataSource;
import dev.proxyra.spi.ProxyraManagedConnectionFactory;
import dev.proxyra.testing.Database;
import dev.proxyra.testing.Factories;
import dev.proxyra.testing.PostgresExtension;
import dev.proxyra.testing.TestCallers;

/**
 * A COPY the application starts through PGConnection.getCopyAPI() and does not end: pgjdbc keeps its connection
 * locked for the COPY, and every later call on it (the next borrower's switch, the health check) would wait for
 * ever. One physical connection (MaxPoolSize=1), so the next borrower always gets the session the COPY was left on;
 * each test fails by timing out when the return does not end the COPY.
 */
@ExtendWith(PostgresExtension.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD) // a hang fails
class UnfinishedCopyTest {
    /** Far more output than the socket buffers hold: a COPY TO STDOUT of it cannot have finished when half read. */
    private static final String LONG_COPY_OUT =
            "COPY (select g, repeat('x', 200) from generate_series(1, 500000) g) TO STDOUT";

    private Database db;
    private ProxyraManagedConnectionFactory mcf;
    private ProxyraDataSource ds;

    @BeforeEach
    void setUp(Database db) throws SQLException {
        this.db = db;
        db.execute("CREATE TABLE IF NOT EXISTS copy_sink (owner name NOT NULL DEFAULT current_user, line text);"
                + " GRANT SELECT, INSERT ON copy_sink TO callers; TRUNCATE copy_sink");
        mcf = Factories.on(db).maxPoolSize(1).build();
        ds = Factories.dataSource(mcf);
    }

    @AfterEach
    void tearDown() {
        TestCallers.set(null);
        mcf.close();
    }

    private Connection connectionAs(String caller) throws SQLException {
        TestCallers.set(caller);
        return ds.getConnection();
    }

    private static String one(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            return rs.next() ? rs.getString(1) : null;
        }
    }

    /** Fails with 25P01 outside a transaction block, so it proves no transaction is open. */
    private static boolean inTransaction(Connection c) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute("SAVEPOINT copy_probe");
            s.execute("RELEASE SAVEPOINT copy_probe");
            return true;
        } catch (SQLException e) {
            if ("25P01".equals(e.getSQLState())) {
                return false;
            }
            throw e;
        }
    }

    /**
     * What the next request finds: served as {@code caller}, no transaction open, and the driver in step with the
     * server (each statement gets its own answer, not what an earlier one left unread).
     */
    private String nextRequest(String caller) throws SQLException {
        try (Connection c = connectionAs(caller)) {
            return one(c, "select current_user") + ", " + (inTransaction(c) ? "a transaction open" : "no transaction")
                    + ", " + one(c, "select 'first'") + ", " + one(c, "select 'second'");
        }
    }

    private static byte[] line(String text) {
        return (text + "\n").getBytes(StandardCharsets.UTF_8);
    }

    private int rowsAsSuperuser(String line) throws SQLException {
        try (Connection c = db.superuser(); var ps = c.prepareStatement("select count(*) from copy_sink where line = ?")) {
            ps.setString(1, line);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getInt(1);
            }
        }
    }

    @ParameterizedTest(name = "auto-commit {0}")
    @ValueSource(booleans = {true, false})
    void aCopyInLeftOpenIsCancelledOnReturnAndTheNextBorrowersAndTheHealthCheckAreServed(boolean autoCommit)
            throws Exception {
        Connection alice = connectionAs("alice");
        alice.setAutoCommit(autoCommit);
        CopyIn in = alice.unwrap(PGConnection.class).getCopyAPI().copyIn("COPY copy_sink (line) FROM STDIN");
        in.writeToCopy(line("alice: unfinished"), 0, line("alice: unfinished").length);
        in.flushCopy();
        alice.close();

        assertThat(mcf.pool().checkHealth().isUp()).as("the health check on the session the COPY was left on").isTrue();
        assertThat(nextRequest("bob")).isEqualTo("bob, no transaction, first, second");
        assertThat(nextRequest("alice")).isEqualTo("alice, no transaction, first, second");
        assertThat(rowsAsSuperuser("alice: unfinished")).as("rows of the COPY never ended").isZero();
        assertThat(mcf.pool().lentOut()).isZero();
    }

    @Test
    void aCopyInKeptPastCloseCannotWriteIntoTheNextCallersCopy() throws Exception {
        Connection alice = connectionAs("alice");
        CopyIn kept = alice.unwrap(PGConnection.class).getCopyAPI().copyIn("COPY copy_sink (line) FROM STDIN");
        alice.close();

        try (Connection bob = connectionAs("bob")) {
            bob.setAutoCommit(false);
            CopyIn his = bob.unwrap(PGConnection.class).getCopyAPI().copyIn("COPY copy_sink (line) FROM STDIN");
            his.writeToCopy(line("bob: his own"), 0, line("bob: his own").length);
            // alice's operation, while bob's COPY runs on the same physical connection
            assertThatThrownBy(() -> kept.writeToCopy(line("alice: injected"), 0, line("alice: injected").length))
                    .isInstanceOf(SQLException.class).hasMessageContaining("is closed");
            assertThatThrownBy(kept::flushCopy).isInstanceOf(SQLException.class);
            assertThatThrownBy(kept::endCopy).isInstanceOf(SQLException.class);
            assertThatThrownBy(kept::cancelCopy).isInstanceOf(SQLException.class);
            assertThat(his.isActive()).as("bob's COPY, after alice's calls").isTrue();
            assertThat(his.endCopy()).isEqualTo(1);
            bob.commit();
            assertThat(one(bob, "select string_agg(owner || '=' || line, ',') from copy_sink")).isEqualTo("bob=bob: his own");
        }
        assertThat(rowsAsSuperuser("alice: injected")).isZero();
    }

    @Test
    void aCopyOutLeftHalfReadIsCancelledOnReturnAndItsOutputNeverReachesTheNextStatement() throws Exception {
        Connection alice = connectionAs("alice");
        CopyOut out = alice.unwrap(PGConnection.class).getCopyAPI().copyOut(LONG_COPY_OUT);
        assertThat(new String(out.readFromCopy(), StandardCharsets.UTF_8)).startsWith("1\t");
        alice.close();

        assertThat(nextRequest("bob")).isEqualTo("bob, no transaction, first, second");
        assertThat(mcf.pool().checkHealth().isUp()).isTrue();
        // the application's reference reads nothing more, whoever holds the session now
        try (Connection bob = connectionAs("bob")) {
            assertThatThrownBy(out::readFromCopy).isInstanceOf(SQLException.class).hasMessageContaining("is closed");
            assertThat(one(bob, "select 'bob after alice read'")).isEqualTo("bob after alice read");
        }
    }

    /**
     * A COPY TO STDOUT whose output had all arrived, unread: the return's cancel request finds the backend idle. It
     * must not cancel the next caller's statement instead (pgjdbc waits until the server has taken the request).
     */
    @Test
    void theCancelOfAFinishedCopyOutNeverCancelsTheNextCallersStatement() throws Exception {
        for (int i = 0; i < 10; i++) {
            Connection alice = connectionAs("alice");
            alice.unwrap(PGConnection.class).getCopyAPI().copyOut("COPY (select 1) TO STDOUT");
            alice.close();
            try (Connection bob = connectionAs("bob")) {
                assertThat(one(bob, "select 'slept' from pg_sleep(0.05)")).isEqualTo("slept");
                assertThat(one(bob, "select current_user")).isEqualTo("bob");
            }
        }
        assertThat(mcf.pool().discardedCount()).isZero();
    }

    @Test
    void cancellingACopyOutLeavesNoOutputForTheCallersNextStatement() throws Exception {
        try (Connection alice = connectionAs("alice")) {
            CopyOut out = alice.unwrap(PGConnection.class).getCopyAPI().copyOut(LONG_COPY_OUT);
            out.readFromCopy();
            out.cancelCopy();
            assertThat(out.isActive()).isFalse();
            assertThat(one(alice, "select 'first'")).isEqualTo("first");
            assertThat(one(alice, "select 'second'")).isEqualTo("second");
        }
        assertThat(nextRequest("bob")).isEqualTo("bob, no transaction, first, second");
    }

    @Test
    void aCopyOutIntoAWriterThatFailsLeavesTheSessionInStep() throws Exception {
        Writer failing = new Writer() {
            private int rows;

            @Override
            public void write(char[] buffer, int offset, int length) throws IOException {
                if (++rows == 3) {
                    throw new IOException("disk full");
                }
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        try (Connection alice = connectionAs("alice")) {
            assertThatThrownBy(() -> alice.unwrap(PGConnection.class).getCopyAPI().copyOut(LONG_COPY_OUT, failing))
                    .isInstanceOf(IOException.class).hasMessage("disk full");
            assertThat(one(alice, "select 'first'")).isEqualTo("first");
            assertThat(one(alice, "select 'second'")).isEqualTo("second");
        }
        assertThat(nextRequest("bob")).isEqualTo("bob, no transaction, first, second");
    }

    @Test
    void aCopyOfTheWrongDirectionIsEndedBeforeItIsRefused() throws Exception {
        try (Connection alice = connectionAs("alice")) {
            var copy = alice.unwrap(PGConnection.class).getCopyAPI();
            assertThatThrownBy(() -> copy.copyIn(LONG_COPY_OUT)).isInstanceOf(SQLException.class)
                    .hasMessageContaining("Requested CopyIn");
            assertThat(one(alice, "select 'first'")).isEqualTo("first");
            assertThatThrownBy(() -> copy.copyOut("COPY copy_sink (line) FROM STDIN")).isInstanceOf(SQLException.class)
                    .hasMessageContaining("Requested CopyOut");
            assertThat(one(alice, "select 'second'")).isEqualTo("second");
            assertThat(copy.copyIn("COPY copy_sink (line) FROM STDIN", new StringReader("alice: after\n"))).isEqualTo(1);
        }
        assertThat(nextRequest("bob")).isEqualTo("bob, no transaction, first, second");
    }

    /**
     * COPY as plain SQL: pgjdbc answers COPY FROM STDIN with CopyFail at once and reads COPY TO STDOUT to its end,
     * refusing both; no lock is taken, and nothing of it reaches the next statement or caller.
     */
    @ParameterizedTest
    @ValueSource(strings = {"COPY copy_sink (line) FROM STDIN",
        "COPY (select g from generate_series(1, 100000) g) TO STDOUT"})
    void aCopyRunAsPlainSqlIsRefusedByTheDriverAndLeavesTheSessionInStep(String sql) throws Exception {
        try (Connection alice = connectionAs("alice")) {
            try (Statement s = alice.createStatement()) {
                assertThatThrownBy(() -> s.execute(sql)).isInstanceOf(SQLException.class)
                        .hasMessageContaining("COPY");
            }
            assertThat(one(alice, "select 'first'")).isEqualTo("first");
            assertThat(inTransaction(alice)).isFalse();
        }
        assertThat(nextRequest("bob")).isEqualTo("bob, no transaction, first, second");
        assertThat(mcf.pool().discardedCount()).as("nothing to discard").isZero();
    }
}
