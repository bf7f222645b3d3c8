package dev.proxyra.it;

import static dev.proxyra.testing.Sessions.backendPid;
import static dev.proxyra.testing.Sessions.currentUser;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import dev.proxyra.jdbc.ProxyraDataSource;
import dev.proxyra.spi.ProxyraManagedConnectionFactory;
import dev.proxyra.testing.Database;
import dev.proxyra.testing.Factories;
import dev.proxyra.testing.PostgresExtension;
import dev.proxyra.testing.TestCallers;

/**
 * PostgreSQL lets SQL on alice's session switch to any role the proxy account may use. proxyra cannot
 * stop that inside one borrow, but must never let it reach the next borrower.
 */
@ExtendWith(PostgresExtension.class)
class RoleEscapeTest {
    private ProxyraManagedConnectionFactory mcf;

    @BeforeAll
    static void createRoleChangingFunction(Database db) throws Exception {
        // A function whose name says nothing about roles: only asking the database can catch it.
        db.execute("CREATE OR REPLACE FUNCTION innocent(r text) RETURNS int LANGUAGE plpgsql AS"
                + " $$ BEGIN EXECUTE 'SET ROLE ' || quote_ident(r); RETURN 1; END $$;"
                + " GRANT EXECUTE ON FUNCTION innocent(text) TO callers");
    }

    @AfterEach
    void tearDown() {
        TestCallers.set(null);
        if (mcf != null) {
            mcf.close();
        }
    }

    private ProxyraDataSource onePhysicalConnection(Database db, String identityCheck) {
        mcf = Factories.on(db)
                .maxPoolSize(1) // the next borrower certainly gets the same physical connection, if it survives
                .identityCheck(identityCheck)
                .build();
        return Factories.dataSource(mcf);
    }

    static Stream<Arguments> escapesAndNextBorrowers() {
        List<String> escapes = List.of("SET ROLE bob", "set session role bob", "RESET ROLE",
                "select set_config('role', 'bob', false)", "SET SESSION AUTHORIZATION DEFAULT", "DISCARD ALL",
                "select innocent('bob')");
        // alice again: the warm session is checked before reuse; caller001: the check travels with the switch
        return escapes.stream().flatMap(sql -> Stream.of(Arguments.of(sql, "alice"), Arguments.of(sql, "caller001")));
    }

    @ParameterizedTest
    @MethodSource("escapesAndNextBorrowers")
    void roleChangingSqlNeverReachesTheNextBorrower(String sql, String nextCaller, Database db) throws Exception {
        ProxyraDataSource ds = onePhysicalConnection(db, "VERIFY");
        assertEscapeContained(ds, sql, nextCaller);
    }

    @Test
    void verifyFindsARoleChangedInsideAFunction(Database db) throws Exception {
        ProxyraDataSource ds = onePhysicalConnection(db, "VERIFY");
        assertEscapeContained(ds, "select innocent('bob')", "alice");
        assertThat(mcf.pool().escapesFound()).as("found by asking the database, not by the text scan").isEqualTo(1);
    }

    @Test
    void anEscapedSessionIsDiscardedEvenWhenTheNextCallerIsRefused(Database db) throws Exception {
        ProxyraDataSource ds = onePhysicalConnection(db, "VERIFY");
        TestCallers.set("alice");
        int pid;
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            pid = backendPid(c);
            s.execute("select innocent('bob')");
        }
        TestCallers.set("mallory"); // exists, but the proxy account may not SET ROLE to it
        assertThatThrownBy(ds::getConnection).isInstanceOfSatisfying(SQLException.class,
                e -> assertThat(e.getSQLState()).isEqualTo("28000"));
        assertThat(mcf.pool().escapesFound()).isEqualTo(1);
        TestCallers.set("alice");
        try (Connection c = ds.getConnection()) {
            assertThat(currentUser(c)).isEqualTo("alice");
            assertThat(backendPid(c)).isNotEqualTo(pid);
        }
        assertThat(mcf.pool().lentOut()).isZero();
    }

    @ParameterizedTest
    @ValueSource(strings = {"SET ROLE bob", "reset role", "select set_config('role', 'bob', false)", "DISCARD ALL"})
    void theTextScanAloneCatchesDirectRoleChanges(String sql, Database db) throws Exception {
        ProxyraDataSource ds = onePhysicalConnection(db, "SCAN");
        assertEscapeContained(ds, sql, "alice");
        assertThat(mcf.pool().escapesFound()).as("discarded on return, before any check").isZero();
    }

    @Test
    void theTextScanAloneDoesNotSeeARoleChangedInsideAFunction(Database db) throws Exception {
        // The documented limit of IdentityCheck=SCAN: why VERIFY is the default.
        ProxyraDataSource ds = onePhysicalConnection(db, "SCAN");
        TestCallers.set("alice");
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            s.execute("select innocent('bob')");
        }
        try (Connection c = ds.getConnection()) {
            assertThat(currentUser(c)).isEqualTo("bob");
        }
    }

    private void assertEscapeContained(ProxyraDataSource ds, String sql, String nextCaller) throws Exception {
        TestCallers.set("alice");
        int pid;
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            pid = backendPid(c);
            s.execute(sql);
        }
        TestCallers.set(nextCaller);
        try (Connection c = ds.getConnection()) {
            assertThat(currentUser(c)).isEqualTo(nextCaller);
            assertThat(backendPid(c)).as("the escaped session is discarded, not reused").isNotEqualTo(pid);
        }
        assertThat(mcf.pool().discardedCount()).isEqualTo(1);
        TestCallers.set("caller002");
        try (Connection c = ds.getConnection()) {
            assertThat(currentUser(c)).isEqualTo("caller002");
        }
        assertThat(mcf.pool().discardedCount()).isEqualTo(1);
        assertThat(mcf.pool().lentOut()).isZero();
    }
}
