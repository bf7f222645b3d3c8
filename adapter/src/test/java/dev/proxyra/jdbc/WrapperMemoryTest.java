package dev.proxyra.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import dev.proxyra.spi.ProxyraManagedConnectionFactory;
import dev.proxyra.testing.Database;
import dev.proxyra.testing.Factories;
import dev.proxyra.testing.PostgresExtension;
import dev.proxyra.testing.TestCallers;

/**
 * The wrappers proxyra puts around driver objects are released when JDBC says the object is closed, so an
 * application that keeps one connection and one statement for a long time does not accumulate them (nor the
 * driver result sets they hold).
 */
@ExtendWith(PostgresExtension.class)
class WrapperMemoryTest {
    private static final int QUERIES = 100_000;
    /** Live wrappers may reach twice the number still open before they are pruned; a few are open at a time. */
    private static final int BOUND = 32;

    private ProxyraManagedConnectionFactory mcf;
    private ProxyraDataSource ds;

    @BeforeEach
    void setUp(Database db) {
        mcf = Factories.on(db).build();
        ds = Factories.dataSource(mcf);
        TestCallers.set("alice");
    }

    @AfterEach
    void tearDown() {
        TestCallers.set(null);
        mcf.close();
    }

    @Test
    void aLongLivedStatementDoesNotKeepTheResultSetsItsExecutionsClosed() throws Exception {
        try (Connection c = ds.getConnection(); Statement s = c.createStatement();
             PreparedStatement ps = c.prepareStatement("select ?::int")) {
            for (int i = 0; i < QUERIES; i++) {
                // never closed by the application: re-executing the statement closes the previous result set
                ResultSet rs = (i % 2 == 0 ? s.executeQuery("select 1") : bind(ps, i).executeQuery());
                rs.next();
                s.getResultSet();
            }
            assertThat(JdbcProxy.childCount(s)).as("result-set wrappers the statement still holds").isLessThan(BOUND);
            assertThat(JdbcProxy.childCount(ps)).isLessThan(BOUND);
            assertThat(((ConnectionHandle) c).openChildren()).as("statements, metadata").isLessThanOrEqualTo(2);
        }
    }

    @Test
    void metadataIsOneObjectPerHandleHoweverOftenItIsAskedFor() throws Exception {
        try (Connection c = ds.getConnection()) {
            DatabaseMetaData first = c.getMetaData();
            for (int i = 0; i < QUERIES; i++) {
                assertThat(c.getMetaData()).isSameAs(first);
            }
            for (int i = 0; i < 1_000; i++) {
                try (ResultSet rs = first.getTables(null, "public", "notes", null)) {
                    rs.next();
                }
            }
            assertThat(((ConnectionHandle) c).openChildren()).isEqualTo(1);
            assertThat(JdbcProxy.childCount(first)).isLessThan(BOUND);
        }
    }

    @Test
    void closedStatementsReleaseTheirWrappersOnALongLivedHandle() throws Exception {
        try (Connection c = ds.getConnection()) {
            for (int i = 0; i < 10_000; i++) {
                Statement s = c.createStatement(); // never closed: lives until the handle closes, as in the driver
                s.executeQuery("select 1").next();
                s.close();
            }
            assertThat(((ConnectionHandle) c).openChildren()).isLessThan(BOUND);
        }
    }

    private static PreparedStatement bind(PreparedStatement ps, int i) throws java.sql.SQLException {
        ps.setInt(1, i);
        return ps;
    }
}
