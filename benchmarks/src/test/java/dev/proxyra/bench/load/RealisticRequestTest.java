package dev.proxyra.bench.load;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.postgresql.PGConnection;

import dev.proxyra.bench.web.Orders;
import dev.proxyra.testing.Database;

/** The load test's realistic request does what it says on each resource, against a real PostgreSQL. */
class RealisticRequestTest {
    private static Database db;

    @BeforeAll
    static void start() throws Exception {
        db = Database.embedded().start();
        db.execute(LoadMain.schema(3));
    }

    @AfterAll
    static void stop() throws Exception {
        db.close();
    }

    private static Connection as(String caller) throws SQLException {
        Connection c = db.connectAs(Database.PROXY_USER, Database.PROXY_PASSWORD);
        try (Statement s = c.createStatement()) {
            s.execute("SET ROLE " + c.unwrap(PGConnection.class).escapeIdentifier(caller));
        }
        return c;
    }

    @Test
    void underRowLevelSecurityTheCallerReadsAndWritesOnlyItsOwnRows() throws Exception {
        int before = db.queryInt("select count(*) from bench_orders where owner = 'caller002'");
        assertThat(Orders.order(as("caller002"), null)).isEqualTo("caller002");
        assertThat(db.queryInt("select count(*) from bench_orders where owner = 'caller002'")).isEqualTo(before + 1);
        // the read the request made saw only the caller's rows: the policy holds for the same statement
        try (Connection c = as("caller002"); Statement s = c.createStatement()) {
            var rs = s.executeQuery("select count(*) from (" + "select owner from bench_orders order by id desc limit 50"
                    + ") latest where owner <> 'caller002'");
            rs.next();
            assertThat(rs.getInt(1)).isZero();
        }
    }

    @Test
    void theSharedAccountFiltersAndStampsTheOwnerItself() throws Exception {
        try (Connection shared = db.connectAs(LoadMain.SHARED_ACCOUNT, Database.PROXY_PASSWORD)) {
            assertThat(Orders.order(shared, "caller003")).isEqualTo("caller003");
        }
    }

    /** The attack on the benchmark's honesty: a caller cannot stamp another caller's name on a row. */
    @Test
    void aCallerCannotWriteAsAnother() throws Exception {
        try (Connection c = as("caller001")) {
            assertThatThrownBy(() -> {
                try (var add = c.prepareStatement("insert into bench_orders(owner, item) values ('caller002', 'x')")) {
                    add.execute();
                }
            }).isInstanceOf(SQLException.class).hasMessageContaining("row-level security");
        }
    }

    /**
     * The same attack through each current_user view: the check option refuses a row stamped with another caller, and
     * a caller sees only its own rows.
     */
    @Test
    void aCallerCannotWriteOrReadAsAnotherThroughTheViews() throws Exception {
        for (String view : new String[] {"bench_my_orders", "bench_my_orders_sb"}) {
            try (Connection c = as("caller001")) {
                assertThatThrownBy(() -> {
                    try (var add = c.prepareStatement("insert into " + view + "(owner, item) values ('caller002', 'x')")) {
                        add.execute();
                    }
                }).as(view).isInstanceOf(SQLException.class).hasMessageContaining("check option");
                try (var read = c.prepareStatement("select count(*) filter (where owner <> current_user), count(*)"
                        + " from " + view); var rs = read.executeQuery()) {
                    rs.next();
                    assertThat(rs.getInt(1)).as(view + ": another caller's rows").isZero();
                    assertThat(rs.getInt(2)).as(view + ": its own rows").isPositive();
                }
                assertThatThrownBy(() -> {
                    try (var read = c.prepareStatement("select count(*) from bench_view_orders")) {
                        read.executeQuery();
                    }
                }).as("the table behind the views").isInstanceOf(SQLException.class).hasMessageContaining("permission");
            }
        }
    }

    @Test
    void theDatabaseCostProbeRunsEveryLineAsItsCaller() throws Exception {
        String rows = "select (select count(*) from bench_orders) + (select count(*) from bench_view_orders)";
        int before = db.queryInt(rows);
        var lines = DatabaseCost.measure(db.url(), Database.PROXY_PASSWORD, 10, 40);
        assertThat(lines).extracting(DatabaseCost.Line::what).hasSize(8).first().asString().startsWith("(2)");
        assertThat(lines).allSatisfy(l -> assertThat(l.backendMillis()).isNotNegative());
        // two passes per line of 5 unrecorded and 20 measured requests, each adding one row (the probe checks the
        // owner the database stamped on each): none of them was skipped or refused
        assertThat(db.queryInt(rows)).isEqualTo(before + 8 * 2 * 25);
    }
}
