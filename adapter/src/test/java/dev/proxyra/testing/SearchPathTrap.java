package dev.proxyra.testing;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/**
 * What a caller can plant for the SQL that runs around its lending: a schema of its own, first on the search_path it
 * stores for its role ({@code ALTER ROLE me SET search_path = trap, pg_catalog, public}, which every role may do for
 * itself), holding functions and operators with the exact signatures of the catalogue's that switch or reset SQL might
 * call unqualified. PostgreSQL resolves an unqualified name in search_path order, and an explicit pg_catalog after the
 * trap lets the trap win. Each trap records {@code current_user} in {@code trap.ran} and then does what the real one
 * does, so nothing else changes: a row by any role but the owner is the owner's code run as someone else (the proxy
 * role, or the next caller).
 */
public final class SearchPathTrap {
    /** The catalogue functions a switch or reset might call unqualified: name, arguments, result, real call. */
    private static final String[][] FUNCTIONS = {
        {"set_config", "text, text, boolean", "text", "pg_catalog.set_config($1, $2, $3)"},
        {"current_setting", "text, boolean", "text", "pg_catalog.current_setting($1, $2)"},
        {"current_setting", "text", "text", "pg_catalog.current_setting($1)"},
        {"pg_advisory_unlock_all", "", "void", "pg_catalog.pg_advisory_unlock_all()"},
        {"pg_my_temp_schema", "", "oid", "pg_catalog.pg_my_temp_schema()"},
        {"quote_ident", "text", "text", "pg_catalog.quote_ident($1)"},
        {"quote_literal", "text", "text", "pg_catalog.quote_literal($1)"},
        {"lower", "text", "text", "pg_catalog.lower($1)"},
        {"current_database", "", "name", "pg_catalog.current_database()"},
        {"format", "text, text", "text", "pg_catalog.format($1, $2)"},
    };
    /** The operators such SQL might use: symbol, left, right, result. */
    private static final String[][] OPERATORS = {
        {"=", "oid", "oid", "boolean"}, {"=", "oid", "integer", "boolean"}, {"<>", "oid", "integer", "boolean"},
        {"=", "text", "text", "boolean"}, {"<>", "text", "text", "boolean"}, {"=", "name", "name", "boolean"},
        {"<>", "name", "name", "boolean"}, {"=", "integer", "integer", "boolean"}, {">", "integer", "integer", "boolean"},
        {">", "bigint", "integer", "boolean"}, {"+", "integer", "integer", "integer"},
    };

    private final Database db;
    private final String schema;
    private final String owner;

    private SearchPathTrap(Database db, String schema, String owner) {
        this.db = db;
        this.schema = schema;
        this.owner = owner;
    }

    /**
     * Plants the trap as {@code owner} would: the superuser only creates {@code schema} for it (an existing role);
     * the owner then creates the trap functions and operators in it and stores its own search_path putting it first.
     * set_user's functions are trapped too when the extension is installed.
     */
    public static SearchPathTrap plant(Database db, String schema, String owner) throws SQLException {
        StringBuilder sql = new StringBuilder();
        sql.append("DROP SCHEMA IF EXISTS ").append(schema).append(" CASCADE;")
                .append(" CREATE SCHEMA ").append(schema).append(" AUTHORIZATION ").append(owner).append(';')
                .append(" SET ROLE ").append(owner).append(';') // from here on, what the caller itself may do
                .append(" GRANT USAGE ON SCHEMA ").append(schema).append(" TO PUBLIC;")
                .append(" CREATE TABLE ").append(schema).append(".ran (who name NOT NULL, what text NOT NULL);")
                .append(" GRANT INSERT, SELECT ON ").append(schema).append(".ran TO PUBLIC;");
        List<String[]> functions = new ArrayList<>(List.of(FUNCTIONS));
        String setUserSchema = extensionSchema(db, "set_user");
        if (setUserSchema != null) {
            functions.add(new String[] {"set_user", "text, text", "text", setUserSchema + ".set_user($1, $2)"});
            functions.add(new String[] {"set_user", "text", "text", setUserSchema + ".set_user($1)"});
            functions.add(new String[] {"reset_user", "text", "text", setUserSchema + ".reset_user($1)"});
            functions.add(new String[] {"reset_user", "", "text", setUserSchema + ".reset_user()"});
        }
        for (String[] f : functions) {
            sql.append(" CREATE FUNCTION ").append(schema).append('.').append(f[0]).append('(').append(f[1])
                    .append(") RETURNS ").append(f[2]).append(" LANGUAGE sql AS $trap$ INSERT INTO ").append(schema)
                    .append(".ran VALUES (current_user, '").append(f[0]).append("'); SELECT ").append(f[3])
                    .append(" $trap$;");
        }
        int n = 0;
        for (String[] o : OPERATORS) {
            String function = schema + ".op" + n++;
            sql.append(" CREATE FUNCTION ").append(function).append('(').append(o[1]).append(", ").append(o[2])
                    .append(") RETURNS ").append(o[3]).append(" LANGUAGE sql AS $trap$ INSERT INTO ").append(schema)
                    .append(".ran VALUES (current_user, '").append(o[1]).append(' ').append(o[0]).append(' ')
                    .append(o[2]).append("'); SELECT $1 OPERATOR(pg_catalog.").append(o[0]).append(") $2 $trap$;")
                    .append(" CREATE OPERATOR ").append(schema).append('.').append(o[0]).append(" (LEFTARG = ")
                    .append(o[1]).append(", RIGHTARG = ").append(o[2]).append(", FUNCTION = ").append(function)
                    .append(");");
        }
        sql.append(" ALTER ROLE ").append(owner).append(" SET search_path = ").append(schema)
                .append(", pg_catalog, public; RESET ROLE");
        db.execute(sql.toString());
        return new SearchPathTrap(db, schema, owner);
    }

    /** The schema an extension is installed in, or null when it is not installed. */
    private static String extensionSchema(Database db, String extension) throws SQLException {
        try (Connection c = db.superuser(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(
                "select n.nspname from pg_extension e join pg_namespace n on n.oid = e.extnamespace"
                        + " where e.extname = '" + extension + "'")) {
            return rs.next() ? rs.getString(1) : null;
        }
    }

    /**
     * The control: the trap works. As {@code role}, with the owner's search_path, unqualified calls of the catalogue's
     * names run the trap (a row by {@code role}); the rows the control wrote are removed again.
     */
    public boolean springsWhenCalledUnqualified(String role) throws SQLException {
        try (Connection c = db.superuser(); Statement s = c.createStatement()) {
            s.execute("SET ROLE " + role + "; SET search_path = " + schema + ", pg_catalog, public");
            s.execute("SELECT pg_advisory_unlock_all(), set_config('proxyra_test.trap', 'x', false),"
                    + " pg_my_temp_schema() <> 0, 'a'::text = 'a'::text, 1 + 1");
            s.execute("RESET ROLE; RESET search_path");
            int sprung;
            try (ResultSet rs = s.executeQuery("select count(*) from " + schema + ".ran where who = '" + role + "'")) {
                rs.next();
                sprung = rs.getInt(1);
            }
            s.execute("DELETE FROM " + schema + ".ran");
            return sprung >= 5;
        }
    }

    /** Every trap that ran as a role other than its owner: "role: what". */
    public List<String> ranAsOthers() throws SQLException {
        List<String> ran = new ArrayList<>();
        try (Connection c = db.superuser(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("select who, what from " + schema + ".ran where who <> '" + owner + "'")) {
            while (rs.next()) {
                ran.add(rs.getString(1) + ": " + rs.getString(2));
            }
        }
        return ran;
    }

    /** Removes the schema and the owner's stored search_path. */
    public void remove() throws SQLException {
        db.execute("ALTER ROLE " + owner + " RESET search_path; DROP SCHEMA IF EXISTS " + schema + " CASCADE");
    }
}
