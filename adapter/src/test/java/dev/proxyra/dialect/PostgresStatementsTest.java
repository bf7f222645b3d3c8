package dev.proxyra.dialect;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Which SQL texts end the open transaction at their top level, as PostgreSQL's lexer splits them (no database). */
class PostgresStatementsTest {

    @ParameterizedTest
    @ValueSource(strings = {"COMMIT", "commit work", "END", "end transaction", "ABORT", "ROLLBACK", "rollback work",
        "ROLLBACK AND CHAIN", "PREPARE TRANSACTION 'x'", "prepare\ttransaction 'x'", "COMMIT PREPARED 'x'",
        "ROLLBACK PREPARED 'x'", "insert into t values (1); commit", "select 1;;COMMIT", "/* a */ -- b\n commit",
        "/* nested /* comment */ still */ commit", "select 'it''s'; commit", "select E'\\'; end'; commit",
        "select $$x$$; commit", "select $tag$ ; $$ ; $tag$; COMMIT", "select \"a;b\"; end"})
    void endsTheTransaction(String sql) {
        assertThat(PostgresStatements.endsTransaction(sql)).as(sql).isTrue();
    }

    @ParameterizedTest
    @ValueSource(strings = {"select 1", "ROLLBACK TO SAVEPOINT s", "rollback to s", "ROLLBACK WORK TO s",
        "rollback transaction to savepoint s", "SAVEPOINT s", "RELEASE SAVEPOINT s", "PREPARE q AS select 1",
        "select 'a; commit'", "select E'it\\'s; commit'", "select $$; end $$", "select $f$ ; commit ; $f$",
        "select \"x;commit\" from t", "-- commit\nselect 1", "/* ; commit */ select 1",
        "DO $$ BEGIN PERFORM 1; END $$", "update t set note = 'done; end of story'", "select $1; ",
        "insert into commits values (1)", "select endpoint from t", ""})
    void leavesTheTransactionOpen(String sql) {
        assertThat(PostgresStatements.endsTransaction(sql)).as(sql).isFalse();
    }
}
