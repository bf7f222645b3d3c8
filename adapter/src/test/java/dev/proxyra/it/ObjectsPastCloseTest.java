package dev.proxyra.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.io.IOException;
import java.io.InputStream;
import java.sql.Blob;
import java.sql.Connection;
import java.sql.ParameterMetaData;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.postgresql.PGResultSetMetaData;

import dev.proxyra.jdbc.ProxyraDataSource;
import dev.proxyra.spi.ProxyraManagedConnectionFactory;
import dev.proxyra.testing.Database;
import dev.proxyra.testing.Factories;
import dev.proxyra.testing.RestartableDatabaseExtension;
import dev.proxyra.testing.Sessions;
import dev.proxyra.testing.TestCallers;

/**
 * Objects alice keeps past the close of her handle, used once bob holds the same physical session inside his
 * transaction: drivers answer column and parameter metadata from the catalogue on the connection, and a large
 * object's stream opens and reads the object on the connection when it is read. Each must fail with 08003 and
 * reach nothing: the database records no statement run as bob but his own, and his transaction commits.
 */
@ExtendWith(RestartableDatabaseExtension.class)
class ObjectsPastCloseTest {
    private Database db;
    private ProxyraManagedConnectionFactory mcf;
    private ProxyraDataSource ds;

    @BeforeAll
    static void schema(Database db) throws SQLException {
        db.execute("DROP TABLE IF EXISTS past_close_moods; DROP TYPE IF EXISTS past_close_mood;"
                + " CREATE TYPE past_close_mood AS ENUM ('calm', 'cross');"
                + " CREATE TABLE past_close_moods (id int PRIMARY KEY, mood past_close_mood NOT NULL);"
                + " INSERT INTO past_close_moods VALUES (1, 'calm'); GRANT SELECT ON past_close_moods TO callers;"
                + " DROP TABLE IF EXISTS past_close_docs; CREATE TABLE past_close_docs (id int, doc oid);"
                + " GRANT SELECT ON past_close_docs TO callers;"
                + " DO $$ DECLARE o oid; BEGIN o := lo_from_bytea(0, 'alice: her own document');"
                + " INSERT INTO past_close_docs VALUES (1, o);"
                + " EXECUTE format('GRANT SELECT ON LARGE OBJECT %s TO alice', o); END $$");
    }

    @BeforeEach
    void setUp(Database db) throws SQLException {
        this.db = db;
        mcf = Factories.onUrl(db.url()).waitTimeout(5)
                .maxPoolSize(1) // bob gets alice's physical session
                .build();
        ds = Factories.dataSource(mcf);
        db.execute("delete from notes where body like 'past-close %'");
    }

    @AfterEach
    void tearDown() {
        TestCallers.set(null);
        mcf.close();
    }

    @FunctionalInterface
    private interface Call {
        Object run() throws SQLException;
    }

    @Test
    void columnAndParameterMetadataKeptPastCloseRunNothingInTheNextCallersTransaction() throws Exception {
        TestCallers.set("alice");
        Connection alice = ds.getConnection();
        PreparedStatement ps = alice.prepareStatement("select id, mood from past_close_moods where mood = ?");
        ps.setObject(1, "calm", Types.OTHER);
        ResultSet rs = ps.executeQuery();
        ResultSetMetaData columns = rs.getMetaData();
        ParameterMetaData parameters = ps.getParameterMetaData();
        PGResultSetMetaData pgColumns = columns.unwrap(PGResultSetMetaData.class);
        int alicePid = Sessions.backendPid(alice);
        alice.close();

        TestCallers.set("bob");
        try (Connection bob = ds.getConnection(); Statement s = bob.createStatement()) {
            assertThat(Sessions.backendPid(bob)).as("bob holds alice's former session").isEqualTo(alicePid);
            bob.setAutoCommit(false);
            s.executeUpdate("insert into notes(body) values ('past-close metadata')");
            db.resetStatementStats();

            List<String> outcomes = new ArrayList<>();
            for (Call call : new Call[] {() -> columns.isNullable(1), () -> columns.getColumnTypeName(2),
                    () -> columns.getColumnClassName(2), () -> columns.getTableName(1), () -> columns.isAutoIncrement(1),
                    () -> columns.getColumnCount(), () -> pgColumns.getBaseColumnName(1),
                    () -> pgColumns.getBaseTableName(2), () -> parameters.getParameterTypeName(1),
                    () -> parameters.getParameterClassName(1), () -> parameters.getParameterType(1),
                    () -> parameters.getParameterCount(), () -> columns.unwrap(PGResultSetMetaData.class)}) {
                try {
                    outcomes.add("answered " + call.run());
                } catch (SQLException e) {
                    outcomes.add(e.getSQLState());
                }
            }
            assertThat(outcomes).containsOnly("08003");
            assertThat(db.statementsRunAs("bob")).as("statements run as bob by alice's objects").isEmpty();
            bob.commit();
        }
        assertThat(db.queryLong("select count(*) from notes where body = 'past-close metadata'")).isEqualTo(1);
    }

    @Test
    void aLargeObjectStreamKeptPastCloseRunsNothingInTheNextCallersTransaction() throws Exception {
        TestCallers.set("alice");
        Connection alice = ds.getConnection();
        alice.setAutoCommit(false); // large objects live in a transaction
        InputStream stream;
        try (Statement s = alice.createStatement(); ResultSet rs = s.executeQuery("select doc from past_close_docs")) {
            rs.next();
            Blob blob = rs.getBlob(1);
            stream = blob.getBinaryStream(); // pgjdbc opens and positions the large object on its first read
        }
        alice.close();

        TestCallers.set("bob");
        Throwable readFailure;
        try (Connection bob = ds.getConnection(); Statement s = bob.createStatement()) {
            bob.setAutoCommit(false);
            s.executeUpdate("insert into notes(body) values ('past-close large object')");
            // unguarded, the read opens alice's large object as bob inside his transaction: refused there, it aborts
            // the transaction, and bob's work is lost
            readFailure = catchThrowable(() -> stream.read(new byte[64]));
            stream.close(); // touches nothing
            s.executeUpdate("insert into notes(body) values ('past-close large object')");
            bob.commit();
        }
        assertThat(db.queryLong("select count(*) from notes where body = 'past-close large object'")).isEqualTo(2);
        assertThat(readFailure).isInstanceOf(IOException.class).hasRootCauseInstanceOf(SQLException.class)
                .hasMessageContaining("is closed");
    }

    @Test
    void aColumnStreamOutlivesItsResultSetAsTheDriverAllowsButNotTheHandle() throws Exception {
        TestCallers.set("alice");
        Connection alice = ds.getConnection();
        InputStream first;
        InputStream second;
        try (Statement s = alice.createStatement();
             ResultSet rs = s.executeQuery("select 'abc'::bytea, 'def'::bytea")) {
            rs.next();
            first = rs.getBinaryStream(1);
            second = rs.getBinaryStream(2);
        }
        assertThat(first.read()).as("pgjdbc's column stream, in memory, after its result set closed").isEqualTo('a');
        alice.close();
        assertThat(catchThrowable(second::read)).isInstanceOf(IOException.class).hasMessageContaining("is closed");
    }
}
