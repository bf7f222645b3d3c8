package dev.proxyra.demo;

import jakarta.json.JsonArrayBuilder;
import jakarta.json.JsonObject;
import jakarta.json.JsonObjectBuilder;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/** The plain JDBC the demo runs: who am I in the database, which rows may I see, add a row. */
final class Sql {
    private Sql() {
    }

    /** caller, current_user, session_user, backend pid and the visible rows, all on one connection. */
    static JsonObject whoami(DataSource ds, String caller) throws SQLException {
        try (Connection c = ds.getConnection()) {
            JsonObjectBuilder o = jakarta.json.Json.createObjectBuilder();
            o.add("caller", caller == null ? "(anonymous)" : caller);
            try (Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("select current_user, session_user, pg_backend_pid()")) {
                rs.next();
                o.add("databaseUser", rs.getString(1));
                o.add("sessionUser", rs.getString(2));
                o.add("backendPid", rs.getInt(3));
            }
            o.add("rows", rows(c));
            return o.build();
        }
    }

    static JsonArrayBuilder rows(Connection c) throws SQLException {
        JsonArrayBuilder rows = jakarta.json.Json.createArrayBuilder();
        try (Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("select id, owner, item from orders order by created_at, item")) {
            while (rs.next()) {
                rows.add(jakarta.json.Json.createObjectBuilder()
                        .add("id", rs.getString(1))
                        .add("owner", rs.getString(2))
                        .add("item", rs.getString(3)));
            }
        }
        return rows;
    }

    /** Inserts a row as the connection's identity (the database fills in owner = current_user). */
    static JsonObject insert(Connection c, String item) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("insert into orders (item) values (?) returning id, owner, item")) {
            ps.setString(1, item);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return jakarta.json.Json.createObjectBuilder()
                        .add("id", rs.getString(1))
                        .add("owner", rs.getString(2))
                        .add("item", rs.getString(3))
                        .build();
            }
        }
    }

    static int backendPid(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("select pg_backend_pid()")) {
            rs.next();
            return rs.getInt(1);
        }
    }
}
