package dev.proxyra.dialect;

import java.sql.SQLException;
import java.util.List;

import dev.proxyra.SqlState;

/**
 * The proxy account can reach more than the callers it serves, or a session it opened carries defaults that would
 * reach the next caller: the pool must lend nothing (the session in hand is discarded) and the borrower gets a
 * refusal naming {@link #problems()}. Its SQLState is none that the pool reads as a refused switch or a dead
 * connection, so that missing this type can never put the session back in the pool.
 */
public final class UnsafeProxyAccountException extends SQLException {
    private static final long serialVersionUID = 1L;
    private final List<String> problems;
    private final boolean atLogin;

    UnsafeProxyAccountException(String message, List<String> problems, boolean atLogin) {
        super(message, SqlState.OBJECT_NOT_IN_PREREQUISITE_STATE);
        this.problems = List.copyOf(problems);
        this.atLogin = atLogin;
    }

    /** Each problem in words, with the statement that fixes it; never a setting's value. */
    public List<String> problems() {
        return problems;
    }

    /**
     * True: found on a new session (defaults that appeared since the pool started); false: found by the check
     * before the pool served anyone.
     */
    public boolean atLogin() {
        return atLogin;
    }
}
