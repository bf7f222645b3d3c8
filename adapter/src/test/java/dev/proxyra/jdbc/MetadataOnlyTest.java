package dev.proxyra.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.ResultSet;
import java.sql.SQLClientInfoException;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.postgresql.PGConnection;

import dev.proxyra.spi.ProxyraManagedConnectionFactory;
import dev.proxyra.testing.Database;
import dev.proxyra.testing.Sessions;
import dev.proxyra.testing.CallerDataSource;
import dev.proxyra.testing.PostgresExtension;
import dev.proxyra.testing.TestCallers;

/**
 * UnauthenticatedAccess=METADATA_ONLY: what a JPA provider needs to deploy a persistence unit on a thread with no
 * caller (the database's product and version, the driver's, transaction settings), and nothing a request without a
 * caller could use to read or write data, or to leave state on the proxy account's session. The connection denies by
 * default: every method of java.sql.Connection, as this JDK has it, is either one of a short, named allow-list or
 * refused with 28000, and the metadata it hands out answers what the database is and never leads to a statement.
 */
@ExtendWith(PostgresExtension.class)
class MetadataOnlyTest {
    /** The allow-list as reviewed: a change to MetadataOnlyConnection.ALLOWED must change this line too. */
    private static final Set<String> REVIEWED = Set.of("close()", "isClosed()",
            "abort(java.util.concurrent.Executor)", "isValid(int)", "getMetaData()", "getAutoCommit()",
            "setAutoCommit(boolean)", "commit()", "rollback()", "getTransactionIsolation()",
            "setTransactionIsolation(int)", "getCatalog()", "isReadOnly()", "getHoldability()",
            "getNetworkTimeout()", "getWarnings()", "clearWarnings()", "unwrap(java.lang.Class)",
            "isWrapperFor(java.lang.Class)");

    private CallerDataSource pool;
    private ProxyraManagedConnectionFactory mcf;
    private ProxyraDataSource ds;

    @BeforeEach
    void setUp(Database db) {
        // one physical session, so the next caller gets the very session the request without a caller had
        pool = CallerDataSource.open(db, null, f -> {
            f.setUnauthenticatedAccess("METADATA_ONLY");
            f.setMaxPoolSize(1);
        });
        mcf = pool.mcf();
        ds = pool.ds();
    }

    @AfterEach
    void tearDown() {
        pool.close();
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


    @Test
    void theAllowListIsTheReviewedOneAndNamesRealMethods() {
        assertThat(MetadataOnlyConnection.ALLOWED).isEqualTo(REVIEWED);
        Set<String> connectionMethods = new TreeSet<>();
        for (Method m : Connection.class.getMethods()) {
            connectionMethods.add(MetadataOnlyConnection.signature(m));
        }
        assertThat(connectionMethods).containsAll(MetadataOnlyConnection.ALLOWED);
    }

    /** Enumerated from the running JDK: a method a later JDK adds to Connection is refused without anyone's help. */
    @Test
    void everyOtherConnectionMethodIsRefusedWith28000() throws Exception {
        List<String> refused = new ArrayList<>();
        try (Connection c = ds.getConnection()) {
            for (Method m : Connection.class.getMethods()) {
                if (Modifier.isStatic(m.getModifiers())
                        || MetadataOnlyConnection.ALLOWED.contains(MetadataOnlyConnection.signature(m))) {
                    continue;
                }
                Throwable thrown = invoke(c, m);
                assertThat(thrown).as(MetadataOnlyConnection.signature(m)).isInstanceOf(SQLException.class);
                assertThat(((SQLException) thrown).getSQLState()).as(m.getName()).isEqualTo("28000");
                assertThat(thrown.getMessage()).as(m.getName()).startsWith("proxyra: " + m.getName())
                        .contains("UnauthenticatedAccess=METADATA_ONLY");
                refused.add(m.getName());
            }
            assertThat(c.isClosed()).isFalse();
        }
        // the JDK 9 additions with default bodies too, and the statement makers of course
        assertThat(refused).contains("beginRequest", "endRequest", "setShardingKey", "setShardingKeyIfValid",
                "createStatement", "prepareStatement", "prepareCall", "setSavepoint", "createBlob", "getSchema",
                "getTypeMap", "getClientInfo", "nativeSQL");
    }

    @Test
    void aClosedMetadataOnlyConnectionSays08003AsAnyClosedHandle() throws SQLException {
        Connection c = ds.getConnection();
        c.close();
        assertThatThrownBy(c::createStatement).isInstanceOf(SQLException.class)
                .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("08003"));
        assertThatThrownBy(() -> c.unwrap(PGConnection.class)).isInstanceOf(SQLException.class)
                .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("08003"));
        assertThat(c.isClosed()).isTrue();
    }

    /** What the JPA providers read while they deploy (see MetadataOnlyConnection) is answered. */
    @Test
    void theMetadataAJpaProviderReadsIsAnswered() throws SQLException {
        try (Connection c = ds.getConnection()) {
            DatabaseMetaData md = c.getMetaData();
            assertThat(md.getURL()).startsWith("jdbc:postgresql:");
            assertThat(md.getUserName()).isEqualTo(Database.PROXY_USER);
            assertThat(md.getDatabaseProductVersion()).isNotBlank();
            assertThat(md.getDriverVersion()).isNotBlank();
            assertThat(md.getSQLKeywords()).isNotBlank();
            assertThat(md.storesLowerCaseIdentifiers()).isTrue();
            assertThat(md.supportsResultSetType(ResultSet.TYPE_FORWARD_ONLY)).isTrue();
            assertThat(c.getCatalog()).isNotBlank();
            assertThat(c.isValid(5)).isTrue();
            c.setTransactionIsolation(Connection.TRANSACTION_SERIALIZABLE);
            assertThat(c.getTransactionIsolation()).isEqualTo(Connection.TRANSACTION_SERIALIZABLE);
            c.getWarnings();
            c.clearWarnings();
            assertThat(c.isReadOnly()).isFalse();
            c.getHoldability();
            assertThat(c.unwrap(Connection.class)).isSameAs(c);
            assertThat(md.unwrap(DatabaseMetaData.class)).isSameAs(md);
            assertThat(md.isWrapperFor(DatabaseMetaData.class)).isTrue();
        }
    }

    /** The attack: reach a statement, or any result set (which would lead to one), through the metadata. */
    @Test
    void theMetadataIsNoDoorToAStatement() throws Exception {
        try (Connection c = ds.getConnection()) {
            DatabaseMetaData md = c.getMetaData();
            assertThat(md.getConnection()).isSameAs(c);
            assertRefused(() -> md.getConnection().createStatement());
            assertRefused(() -> md.getConnection().prepareStatement("select 1"));
            List<String> refused = new ArrayList<>();
            for (Method m : DatabaseMetaData.class.getMethods()) {
                if (Modifier.isStatic(m.getModifiers()) || MetadataOnlyConnection.allowsOnMetaData(m)
                        || m.getName().equals("unwrap") || m.getName().equals("isWrapperFor")) {
                    continue;
                }
                Throwable thrown = invoke(md, m);
                assertThat(thrown).as(m.getName()).isInstanceOf(SQLException.class);
                assertThat(((SQLException) thrown).getSQLState()).as(m.getName()).isEqualTo("28000");
                refused.add(m.getName());
            }
            // every result set: getStatement on one of them would be the door
            assertThat(refused).contains("getTables", "getColumns", "getSchemas", "getCatalogs", "getTypeInfo",
                    "getProcedures", "getFunctions", "getUDTs", "getClientInfoProperties", "getPrimaryKeys");
            for (Method m : DatabaseMetaData.class.getMethods()) {
                if (ResultSet.class.isAssignableFrom(m.getReturnType())) {
                    assertThat(refused).as(m.getName()).contains(m.getName());
                }
            }
            // the driver's own metadata class, the driver's connection, or anything else behind it
            assertRefused(() -> md.unwrap(org.postgresql.jdbc.PgDatabaseMetaData.class));
            assertRefused(() -> md.unwrap(PGConnection.class));
            assertRefused(() -> md.unwrap(Connection.class));
            assertThat(md.isWrapperFor(org.postgresql.jdbc.PgDatabaseMetaData.class)).isFalse();
        }
    }

    /** A caller's metadata result set is not a door to the driver's statement either. */
    @Test
    void aCallersMetadataResultSetHasNoStatementToRunSqlOn() throws SQLException {
        TestCallers.set("alice");
        try (Connection c = ds.getConnection(); ResultSet rs = c.getMetaData().getTables(null, null, "%", null)) {
            assertThat(rs.getStatement()).isNull();
        }
    }

    /** The attack: unwrap to the driver's connection, or to the handle behind the guard. */
    @Test
    void neitherTheDriverConnectionNorTheHandleBehindTheGuardIsHandedOut() throws SQLException {
        try (Connection c = ds.getConnection()) {
            for (Class<?> behind : new Class<?>[] {PGConnection.class, org.postgresql.core.BaseConnection.class,
                org.postgresql.jdbc.PgConnection.class, ConnectionHandle.class, Statement.class}) {
                assertRefused(() -> c.unwrap(behind));
                assertThat(c.isWrapperFor(behind)).as(behind.getName()).isFalse();
            }
            assertThat(c).isNotInstanceOf(ConnectionHandle.class);
        }
    }

    /** The attack: change the proxy account's session for whoever is lent it next. */
    @Test
    void noSessionStateOfTheProxyAccountCanBeChanged() throws SQLException {
        try (Connection c = ds.getConnection()) {
            int holdability = c.getHoldability();
            Properties all = new Properties();
            all.setProperty("ApplicationName", "no caller");
            for (ThrowingCall call : new ThrowingCall[] {() -> c.setClientInfo("ApplicationName", "no caller"),
                () -> c.setClientInfo(all), () -> c.setSchema("pg_catalog"), () -> c.setReadOnly(true),
                () -> c.setCatalog("postgres"), () -> c.setHoldability(ResultSet.HOLD_CURSORS_OVER_COMMIT),
                () -> c.setTypeMap(Map.of()), () -> c.setNetworkTimeout(Runnable::run, 1),
                () -> c.getTypeMap().put("x", String.class)}) {
                assertRefused(call);
            }
            assertThatThrownBy(() -> c.setClientInfo("ApplicationName", "no caller"))
                    .isInstanceOf(SQLClientInfoException.class);
            assertThat(c.isReadOnly()).isFalse();
            assertThat(c.getHoldability()).isEqualTo(holdability);
        }
        TestCallers.set("alice");
        try (Connection c = ds.getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("select current_setting('application_name'),"
                     + " current_setting('search_path'), current_setting('transaction_read_only'), current_user")) {
            rs.next();
            assertThat(rs.getString(1)).isNotEqualTo("no caller");
            assertThat(rs.getString(2)).doesNotContain("pg_catalog");
            assertThat(rs.getString(3)).isEqualTo("off");
            assertThat(rs.getString(4)).isEqualTo("alice");
        }
        assertThat(mcf.pool().totalCount()).as("one physical session served both").isEqualTo(1);
    }

    private static void assertRefused(ThrowingCall call) {
        assertThatThrownBy(call::run).isInstanceOf(SQLException.class)
                .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("28000"))
                .hasMessageContaining("UnauthenticatedAccess=METADATA_ONLY");
    }

    /** What {@code m} threw when called on {@code target} with neutral arguments, or null. */
    private static Throwable invoke(Object target, Method m) throws IllegalAccessException {
        Object[] args = Arrays.stream(m.getParameterTypes()).map(MetadataOnlyTest::neutral).toArray();
        try {
            m.invoke(target, args);
            return null;
        } catch (InvocationTargetException e) {
            return e.getCause();
        }
    }

    private static Object neutral(Class<?> type) {
        if (type == boolean.class) {
            return false;
        }
        if (type == int.class) {
            return 0;
        }
        if (type == long.class) {
            return 0L;
        }
        if (type == String.class) {
            return "x";
        }
        if (type == String[].class) {
            return new String[] {"x"};
        }
        if (type == int[].class) {
            return new int[] {1};
        }
        if (type == Object[].class) {
            return new Object[0];
        }
        return null;
    }

    @FunctionalInterface
    interface ThrowingCall {
        void run() throws Exception;
    }
}
