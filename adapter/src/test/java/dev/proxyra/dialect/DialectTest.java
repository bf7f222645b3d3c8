package dev.proxyra.dialect;

import oracle.jdbc.driver.utils.LoginOption;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.SQLException;
import java.sql.SQLRecoverableException;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

import oracle.jdbc.OracleConnection;

import dev.proxyra.identity.DbIdentity;
import dev.proxyra.testing.RecordingOracleConnection;

class DialectTest {
    private final PostgresRole postgres = new PostgresRole();
    private final OracleProxySession oracle = new OracleProxySession();

    @ParameterizedTest
    @CsvSource({"08006,FATAL", "08003,FATAL", "57P01,FATAL", "57P02,FATAL", "57P03,FATAL", "42501,OTHER",
            "23505,OTHER", "40001,OTHER", ",OTHER"})
    void postgresErrorsAreClassifiedBySqlState(String state, Dialect.ErrorKind kind) {
        assertThat(postgres.classify(new SQLException("any text", state))).isEqualTo(kind);
    }

    @ParameterizedTest
    @CsvSource({"28,FATAL", "1012,FATAL", "3113,FATAL", "3114,FATAL", "12170,FATAL", "12541,FATAL", "17002,FATAL",
            "17008,FATAL", "1,OTHER", "942,OTHER", "28150,OTHER", "12899,OTHER"})
    void oracleErrorsAreClassifiedByVendorCode(int code, Dialect.ErrorKind kind) {
        assertThat(oracle.classify(new SQLException("ORA text, maybe localized", "99999", code))).isEqualTo(kind);
    }

    @Test
    void messageTextNeverDecides() {
        assertThat(postgres.classify(new SQLException("connection reset, terminating connection", "42000")))
                .isEqualTo(Dialect.ErrorKind.OTHER);
        assertThat(oracle.classify(new SQLRecoverableException("anything"))).isEqualTo(Dialect.ErrorKind.FATAL);
        SQLException chained = new SQLException("batch failed", "23000");
        chained.setNextException(new SQLException("io", "08006"));
        assertThat(postgres.classify(chained)).isEqualTo(Dialect.ErrorKind.FATAL);
    }

    @ParameterizedTest
    @ValueSource(ints = {28150, 1017, 28000, 28179, 1045})
    void oracleNotAuthorizedCodes(int code) {
        assertThat(oracle.isNotAuthorized(new SQLException("x", "72000", code))).isTrue();
    }

    @Test
    void postgresNotAuthorizedStates() {
        assertThat(postgres.isNotAuthorized(new SQLException("permission denied to set role", "42501"))).isTrue();
        assertThat(postgres.isNotAuthorized(new SQLException("role does not exist", "22023"))).isTrue();
        assertThat(postgres.isNotAuthorized(new SQLException("syntax", "42601"))).isFalse();
    }

    @ParameterizedTest
    @ValueSource(strings = {"SET ROLE bob", "set\n role bob", "SET SESSION ROLE x", "set local role x", "RESET ROLE",
            "reset all", "SET SESSION AUTHORIZATION bob", "select set_config('role','bob',false)", "DISCARD ALL",
            "/* c */ discard all",
            // comments between the words, the setting's name quoted, escaped identifiers
            "SET/**/ROLE bob", "set/* x */session/**/role bob", "SET -- hidden\n ROLE bob", "SET\t--\r\nROLE bob",
            "RESET/**/ROLE", "SET \"role\" TO bob", "set session \"role\" = 'bob'", "RESET \"role\"",
            "RESET \"session_authorization\"", "SET SESSION/**/AUTHORIZATION bob", "select \"set_config\"('role','bob',false)",
            "select pg_catalog.\"set_config\"('role', 'bob', false)", "SET U&\"r\\006Fle\" TO bob",
            "DO $$ BEGIN EXECUTE 'SET/**/ROLE bob'; END $$", "COPY (select set_config('role','bob',false)) TO STDOUT"})
    void theScanSeesDirectRoleChanges(String sql) {
        assertThat(postgres.mayChangeIdentity(sql)).isTrue();
    }

    @ParameterizedTest
    @ValueSource(strings = {"select * from roles", "insert into user_role values (1)", "select current_role",
            "update settings set x = 1", "select 'the role of u' as x", "SET search_path = public",
            "select * from \"roles\"", "insert into t values ('x') -- a comment"})
    void theScanLeavesOrdinarySqlAlone(String sql) {
        assertThat(postgres.mayChangeIdentity(sql)).isFalse();
    }

    @Test
    void oracleFirstSwitchOpensOneProxySessionByUserName() throws SQLException {
        RecordingOracleConnection fake = new RecordingOracleConnection();
        oracle.changeIdentity(fake.connection(), null, DbIdentity.of("ALICE", "alice"), false);
        assertThat(fake.calls).containsExactly("openProxySession(PROXYTYPE_USER_NAME, {PROXY_USER_NAME=ALICE})");
    }

    @Test
    void oracleSwitchClosesTheOldProxySessionBeforeOpeningTheNew() throws SQLException {
        RecordingOracleConnection fake = new RecordingOracleConnection();
        DbIdentity alice = DbIdentity.of("ALICE", "alice");
        oracle.changeIdentity(fake.connection(), null, alice, false);
        assertThat(oracle.changeIdentity(fake.connection(), alice, DbIdentity.of("BOB", "bob"), false)).isTrue();
        assertThat(fake.calls).containsExactly(
                "openProxySession(PROXYTYPE_USER_NAME, {PROXY_USER_NAME=ALICE})",
                "close(PROXY_SESSION)",
                "openProxySession(PROXYTYPE_USER_NAME, {PROXY_USER_NAME=BOB})");
        assertThat(fake.proxyUser()).isEqualTo("BOB");
    }

    @Test
    void oracleExplicitPasswordIsSentAsTheProxyUserPassword() throws SQLException {
        RecordingOracleConnection fake = new RecordingOracleConnection();
        oracle.changeIdentity(fake.connection(), null, new DbIdentity("SCOTT", "scott", "tiger"), false);
        assertThat(fake.calls).containsExactly(
                "openProxySession(PROXYTYPE_USER_NAME, {PROXY_USER_NAME=SCOTT, PROXY_USER_PASSWORD=***})");
    }

    @Test
    void oracleRolesAreSentAsProxyRoles() throws SQLException {
        RecordingOracleConnection fake = new RecordingOracleConnection();
        oracle.changeIdentity(fake.connection(), null,
                new DbIdentity("ALICE", "alice", null, java.util.List.of("ERP_MANAGER", "ERP_CLERK")), false);
        assertThat(fake.calls).containsExactly(
                "openProxySession(PROXYTYPE_USER_NAME, {PROXY_ROLES=[ERP_CLERK, ERP_MANAGER], PROXY_USER_NAME=ALICE})");
    }

    @Test
    void oracleResetAndProxyAccountCloseTheProxySessionOnly() throws SQLException {
        RecordingOracleConnection fake = new RecordingOracleConnection();
        oracle.reset(fake.connection());
        assertThat(fake.calls).isEmpty();
        DbIdentity alice = DbIdentity.of("ALICE", "alice");
        oracle.changeIdentity(fake.connection(), null, alice, false);
        oracle.changeIdentity(fake.connection(), alice, DbIdentity.PROXY_ACCOUNT, false);
        assertThat(fake.calls).containsExactly("openProxySession(PROXYTYPE_USER_NAME, {PROXY_USER_NAME=ALICE})",
                "close(PROXY_SESSION)");
        assertThat(fake.proxyUser()).isNull();
    }

    @Test
    void oracleRefusalSurfacesWithItsVendorCode() {
        RecordingOracleConnection fake = new RecordingOracleConnection();
        fake.refuse("MALLORY", 28150);
        assertThatThrownBy(() -> oracle.changeIdentity(fake.connection(), null, DbIdentity.of("MALLORY", "mallory"), false))
                .isInstanceOfSatisfying(SQLException.class, e -> {
                    assertThat(e.getErrorCode()).isEqualTo(28150);
                    assertThat(oracle.isNotAuthorized(e)).isTrue();
                    assertThat(oracle.classify(e)).isEqualTo(Dialect.ErrorKind.OTHER);
                });
        assertThat(fake.proxyUser()).isNull();
        assertThat(oracle.identityAfterRefusal(null)).as("a fresh session stays fresh").isNull();
        assertThat(oracle.identityAfterRefusal(DbIdentity.of("ALICE", "alice")))
                .as("the previous proxy session was closed before the refused one").isEqualTo(DbIdentity.PROXY_ACCOUNT);
    }

    @Test
    void oracleFindsAProxySessionChangedOutsideProxyraWithoutARoundTrip() throws SQLException {
        RecordingOracleConnection fake = new RecordingOracleConnection();
        DbIdentity alice = DbIdentity.of("ALICE", "alice");
        oracle.changeIdentity(fake.connection(), null, alice, false);
        assertThat(oracle.identityIntact(fake.connection(), alice)).isTrue();
        assertThat(oracle.identityIntact(fake.connection(), DbIdentity.PROXY_ACCOUNT)).isFalse();
        // what an application holding the raw OracleConnection could do: close the proxy session itself
        fake.connection().close(OracleConnection.PROXY_SESSION);
        assertThat(oracle.identityIntact(fake.connection(), alice)).isFalse();
        assertThat(oracle.verify(fake.connection(), alice)).isFalse();
        assertThat(oracle.changeIdentity(fake.connection(), alice, DbIdentity.of("BOB", "bob"), false))
                .as("a session that no longer runs as its label is not switched but discarded").isFalse();
    }

    @Test
    void oracleRollsBackAnOpenTransactionBeforeClosingItsProxySession() throws SQLException {
        // Oracle commits a session's open work when the session ends: it must never end with work open
        RecordingOracleConnection fake = new RecordingOracleConnection();
        DbIdentity alice = DbIdentity.of("ALICE", "alice");
        oracle.changeIdentity(fake.connection(), null, alice, false);
        fake.openTransaction();
        assertThat(oracle.transactionOpen(fake.connection())).isTrue();
        oracle.changeIdentity(fake.connection(), alice, DbIdentity.of("BOB", "bob"), false);
        assertThat(fake.calls).containsSubsequence("execute(ROLLBACK)", "close(PROXY_SESSION)",
                "openProxySession(PROXYTYPE_USER_NAME, {PROXY_USER_NAME=BOB})");
        assertThat(oracle.transactionOpen(fake.connection())).isFalse();
    }

    /** The Oracle name rule reuses ojdbc's own pattern: a driver whose pattern differs must be looked at first. */
    @Test
    void ojdbcsProxyUserNamePatternIsTheOneTheOracleNameRuleWasWrittenFor() {
        assertThat(LoginOption.pattern().pattern()).isEqualTo(
                "(?iU)(?<userName>([\\w$#]+)|(\"[^\u0000\"]+\"))?(\\[(?<proxyClient>([\\w$#]+)|(\"[^\u0000\"]+\"))\\])?"
                        + "((\\s+AS\\s+)(?<asRole>SYSDBA|SYSOPER|SYSASM|SYSBACKUP|SYSDG|SYSKM))?");
    }

    @ParameterizedTest
    @ValueSource(strings = {"ALICE", "alice", "A$B#_1", "\u00C4LICE", "\"ALICE.SMITH\"", "\"A B\""})
    void oracleTakesNamesOjdbcTakesAsAProxyUser(String name) {
        assertThat(oracle.userNameRuleBroken(name)).isNull();
    }

    @ParameterizedTest
    @ValueSource(strings = {"ALICE.SMITH", "ALICE@EXAMPLE.COM", "JOHN DOE", "O'BRIEN", "ALICE-1", "DOMAIN\\ALICE",
        "ALICE/X", "ALICE[BOB]", "ALICE AS SYSDBA", "\"\"", "\"A\u0000B\""})
    void oracleRefusesNamesOjdbcWouldRejectOrReadAsSomethingElse(String name) {
        assertThat(oracle.userNameRuleBroken(name)).contains("cannot be an Oracle proxy user");
        assertThat(postgres.userNameRuleBroken(name)).isNull();
    }

    @ParameterizedTest
    @ValueSource(ints = {28150, 28179, 1017, 28000, 28001, 1045, 28156, 28157, 1924, 2391, 18, 4088, 604, 20000, 20999,
        17150})
    void oracleCountsPerUserRefusalsAsRefusals(int code) {
        assertThat(oracle.isNotAuthorized(new SQLException("ORA-" + code, "72000", code))).isTrue();
    }

    @ParameterizedTest
    @ValueSource(ints = {600, 3113, 1012, 19999, 21000, 17008})
    void oracleDoesNotCountSessionFaultsAsRefusals(int code) {
        assertThat(oracle.isNotAuthorized(new SQLException("ORA-" + code, "72000", code))).isFalse();
    }

    @ParameterizedTest
    @ValueSource(strings = {"SET ROLE ERP_MANAGER", "set\n role all", "begin dbms_session.set_role('ERP_MANAGER'); end;",
        "BEGIN \"SYS\".\"DBMS_SESSION\".\"SET_ROLE\"('X'); END;", "begin execute immediate 'set role erp_manager'; end;",
        "call set_role('x')"})
    void oracleScanSeesRoleChanges(String sql) {
        assertThat(oracle.identityChangeableBySql()).isTrue();
        assertThat(oracle.mayChangeIdentity(sql)).isTrue();
    }

    @ParameterizedTest
    @ValueSource(strings = {"select role from session_roles", "select * from user_role_privs", "update roles set x = 1",
        "select reset_role_count from t", "insert into role_set values (1)"})
    void oracleScanLeavesOrdinarySqlAlone(String sql) {
        assertThat(oracle.mayChangeIdentity(sql)).isFalse();
    }
}
