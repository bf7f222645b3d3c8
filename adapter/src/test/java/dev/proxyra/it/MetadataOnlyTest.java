package dev.proxyra.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.SQLException;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.postgresql.PGConnection;

import dev.proxyra.jdbc.ProxyraDataSource;
import dev.proxyra.spi.ProxyraManagedConnectionFactory;
import dev.proxyra.testing.Database;
import dev.proxyra.testing.Factories;
import dev.proxyra.testing.PostgresExtension;
import dev.proxyra.testing.Sessions;
import dev.proxyra.testing.TestCallers;

/**
 * UnauthenticatedAccess=METADATA_ONLY: what a JPA provider needs to deploy a persistence unit on a thread with no
 * caller (the database's product and version, the driver's, transaction settings), and nothing a request without a
 * caller could use to read or write data, or to leave state on the proxy account's session.
 */
@ExtendWith(PostgresExtension.class)
class MetadataOnlyTest {
    private ProxyraManagedConnectionFactory mcf;
    private ProxyraDataSource ds;

    @BeforeEach
    void setUp(Database db) {
        mcf = Factories.on(db).unauthenticatedAccess("METADATA_ONLY").build();
        ds = Factories.dataSource(mcf);
        TestCallers.set(null);
    }

    @AfterEach
    void tearDown() {
        TestCallers.set(null);
        mcf.close();
    }

    @Test
    void aRequestWithoutACallerReadsMetadataAndTransactionSettings() throws SQLException {
        try (Connection c = ds.getConnection()) {
            DatabaseMetaData md = c.getMetaData();
            assertThat(md.getDatabaseProductName()).isEqualTo("PostgreSQL");
            assertThat(md.getDatabaseMajorVersion()).isGreaterThanOrEqualTo(14);
            assertThat(md.getDriverName()).isNotBlank();
            assertThat(md.supportsTransactions()).isTrue();
            assertThat(md.getIdentifierQuoteString()).isEqualTo("\"");
            assertThat(md.getConnection()).isSameAs(c);
            assertThat(c.getAutoCommit()).isTrue();
            c.setAutoCommit(false);
            c.commit();
            c.setAutoCommit(true);
            assertThat(c.getTransactionIsolation()).isEqualTo(Connection.TRANSACTION_READ_COMMITTED);
        }
    }

    /** The attack: use the connection a request without a caller got to read, write or change anything. */
    @Test
    void everythingBeyondMetadataIsRefusedWith28000() throws SQLException {
        try (Connection c = ds.getConnection()) {
            DatabaseMetaData md = c.getMetaData();
            for (ThrowingCall call : new ThrowingCall[] {c::createStatement, () -> c.prepareStatement("select 1"),
                () -> c.prepareCall("select 1"), () -> c.nativeSQL("select 1"), c::getSchema, () -> c.setSchema("x"),
                () -> c.createArrayOf("int", new Object[] {1}), c::createBlob, c::setSavepoint,
                () -> c.unwrap(PGConnection.class), () -> c.setClientInfo("ApplicationName", "x"),
                () -> md.getTables(null, "public", "notes", null), () -> md.getColumns(null, null, "notes", null),
                () -> md.getSchemas()}) {
                assertThatThrownBy(call::run).isInstanceOf(SQLException.class)
                        .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("28000"))
                        .hasMessageContaining("UnauthenticatedAccess=METADATA_ONLY");
            }
        }
        // and a caller on the same pool is served as usual
        TestCallers.set("alice");
        try (Connection c = ds.getConnection()) {
            assertThat(Sessions.currentUser(c)).isEqualTo("alice");
        }
    }

    @FunctionalInterface
    interface ThrowingCall {
        void run() throws Exception;
    }
}
