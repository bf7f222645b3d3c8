package dev.proxyra.bench.web;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

/**
 * The load test's realistic request: in one transaction, read the caller's five latest orders by index and add one,
 * then commit; answer with the owner the database recorded for the new row. Through proxyra and a login per request
 * row-level security filters by current_user; through the shared account the application filters and stamps the
 * owner itself, as such applications do. Plain JDBC, so the load test can also run it outside the server.
 */
public final class Orders {
    static final String READ_OWN = "select id, item from bench_orders order by id desc limit 5";
    static final String READ_FILTERED = "select id, item from bench_orders where owner = ? order by id desc limit 5";
    static final String ADD_OWN = "insert into bench_orders(item) values (?) returning owner";
    static final String ADD_STAMPED = "insert into bench_orders(owner, item) values (?, ?) returning owner";

    private Orders() {
    }

    /** {@code stampedOwner}: the application's own filter and owner (shared account), or null (the database's). */
    public static String order(Connection c, String stampedOwner) throws SQLException {
        return stampedOwner == null ? order(c, READ_OWN, ADD_OWN, null) : order(c, READ_FILTERED, ADD_STAMPED,
                stampedOwner);
    }

    /**
     * The same request through {@code view}, one of the schema's views that filter and check by current_user
     * ({@code bench_my_orders}, plain; {@code bench_my_orders_sb}, a security barrier): the database's identity
     * without a row-level security policy, so their plans do not depend on the role (a policy is planned for the role
     * that runs it).
     */
    public static String orderThroughView(Connection c, String view) throws SQLException {
        return order(c, "select id, item from " + view + " order by id desc limit 5",
                "insert into " + view + "(item) values (?) returning owner", null);
    }

    private static String order(Connection c, String readSql, String addSql, String stampedOwner) throws SQLException {
        try (c) {
            c.setAutoCommit(false);
            try {
                int seen = 0;
                try (PreparedStatement read = c.prepareStatement(readSql)) {
                    if (stampedOwner != null) {
                        read.setString(1, stampedOwner);
                    }
                    try (ResultSet rs = read.executeQuery()) {
                        while (rs.next()) {
                            seen++;
                        }
                    }
                }
                String owner;
                try (PreparedStatement add = c.prepareStatement(addSql)) {
                    if (stampedOwner != null) {
                        add.setString(1, stampedOwner);
                    }
                    add.setString(stampedOwner == null ? 1 : 2, "after " + seen);
                    try (ResultSet rs = add.executeQuery()) {
                        rs.next();
                        owner = rs.getString(1);
                    }
                }
                c.commit();
                return owner;
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            }
        }
    }
}
