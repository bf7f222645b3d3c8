package dev.proxyra.dialect;

/**
 * The top-level statements of a PostgreSQL SQL text, read as the server's lexer splits them: semicolons inside
 * string literals ('...', E'...' with backslash escapes), quoted identifiers, dollar-quoted bodies and comments
 * (nested block comments too) do not end a statement. Only the first words of each statement are looked at.
 */
final class PostgresStatements {
    private PostgresStatements() {
    }

    /**
     * Whether a top-level statement of {@code sql} ends or hands over the open transaction: COMMIT, END, ABORT,
     * ROLLBACK (but not ROLLBACK TO a savepoint), PREPARE TRANSACTION, COMMIT PREPARED or ROLLBACK PREPARED. A
     * procedure or DO block cannot commit inside a transaction block (PostgreSQL refuses it), so the top level is
     * where the application could end a transaction the server demarcates.
     */
    static boolean endsTransaction(String sql) {
        int n = sql.length();
        int i = 0;
        boolean atStart = true;
        while (i < n) {
            char c = sql.charAt(i);
            if (c == '-' && i + 1 < n && sql.charAt(i + 1) == '-') {
                while (i < n && sql.charAt(i) != '\n' && sql.charAt(i) != '\r') {
                    i++;
                }
            } else if (c == '/' && i + 1 < n && sql.charAt(i + 1) == '*') {
                i = skipBlockComment(sql, i);
            } else if (Character.isWhitespace(c)) {
                i++;
            } else if (c == ';') {
                atStart = true;
                i++;
            } else if (atStart) {
                atStart = false;
                if (endsTransactionAt(sql, i)) {
                    return true;
                }
            } else if (c == '\'') {
                boolean backslashes = i > 0 && (sql.charAt(i - 1) == 'e' || sql.charAt(i - 1) == 'E')
                        && (i < 2 || !Character.isLetterOrDigit(sql.charAt(i - 2)) && sql.charAt(i - 2) != '_');
                i = skipQuoted(sql, i, '\'', backslashes);
            } else if (c == '"') {
                i = skipQuoted(sql, i, '"', false);
            } else if (c == '$') {
                i = skipDollarQuoted(sql, i);
            } else {
                i++;
            }
        }
        return false;
    }

    private static boolean endsTransactionAt(String sql, int at) {
        int[] pos = {at};
        String first = word(sql, pos);
        switch (first) {
            case "commit", "end", "abort" -> {
                return true;
            }
            case "rollback" -> {
                String next = word(sql, pos);
                if (next.equals("work") || next.equals("transaction")) {
                    next = word(sql, pos);
                }
                return !next.equals("to"); // ROLLBACK [WORK] TO [SAVEPOINT] x stays in the transaction
            }
            case "prepare" -> {
                return word(sql, pos).equals("transaction"); // PREPARE name AS ... is a prepared statement
            }
            default -> {
                return false;
            }
        }
    }

    /** The next word at or after {@code pos[0]} (white space and comments skipped), lower case; "" if none. */
    private static String word(String sql, int[] pos) {
        int i = pos[0];
        int n = sql.length();
        while (i < n) {
            char c = sql.charAt(i);
            if (Character.isWhitespace(c)) {
                i++;
            } else if (c == '-' && i + 1 < n && sql.charAt(i + 1) == '-') {
                while (i < n && sql.charAt(i) != '\n' && sql.charAt(i) != '\r') {
                    i++;
                }
            } else if (c == '/' && i + 1 < n && sql.charAt(i + 1) == '*') {
                i = skipBlockComment(sql, i);
            } else {
                break;
            }
        }
        int start = i;
        while (i < n && (Character.isLetter(sql.charAt(i)) || sql.charAt(i) == '_')) {
            i++;
        }
        pos[0] = i;
        return sql.substring(start, i).toLowerCase(java.util.Locale.ROOT);
    }

    private static int skipBlockComment(String sql, int i) {
        int depth = 0;
        int n = sql.length();
        while (i < n) {
            if (sql.startsWith("/*", i)) {
                depth++;
                i += 2;
            } else if (sql.startsWith("*/", i)) {
                i += 2;
                if (--depth == 0) {
                    return i;
                }
            } else {
                i++;
            }
        }
        return n;
    }

    private static int skipQuoted(String sql, int i, char quote, boolean backslashes) {
        int n = sql.length();
        i++;
        while (i < n) {
            char c = sql.charAt(i);
            if (backslashes && c == '\\') {
                i += 2;
            } else if (c == quote) {
                if (i + 1 < n && sql.charAt(i + 1) == quote) {
                    i += 2; // a doubled quote stands for one
                } else {
                    return i + 1;
                }
            } else {
                i++;
            }
        }
        return n;
    }

    /** $tag$ ... $tag$ (the tag may be empty); a $ that opens no such quote (a parameter $1) is one character. */
    private static int skipDollarQuoted(String sql, int i) {
        int n = sql.length();
        int j = i + 1;
        while (j < n && (Character.isLetterOrDigit(sql.charAt(j)) || sql.charAt(j) == '_')) {
            j++;
        }
        if (j >= n || sql.charAt(j) != '$' || (j > i + 1 && Character.isDigit(sql.charAt(i + 1)))) {
            return i + 1;
        }
        String tag = sql.substring(i, j + 1);
        int end = sql.indexOf(tag, j + 1);
        return end < 0 ? n : end + tag.length();
    }
}
