package dev.proxyra.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.SQLException;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import dev.proxyra.jdbc.ProxyraDataSource;
import dev.proxyra.pool.IdentityPool;
import dev.proxyra.spi.ProxyraManagedConnectionFactory;
import dev.proxyra.testing.Database;
import dev.proxyra.testing.Factories;
import dev.proxyra.testing.RestartableDatabaseExtension;

/**
 * Database restart under load: clients keep running while PostgreSQL is stopped (fast shutdown, so
 * in-flight sessions are terminated) and started again on the same port and data. During the outage
 * every request fails with a clear error within ConnectionWaitTimeout; once the database is back every
 * request succeeds again with the same DataSource (no redeploy), nobody ever runs as someone else, and
 * nothing stays borrowed.
 */
@ExtendWith(RestartableDatabaseExtension.class)
class DatabaseRestartTest {
    private static final int CLIENTS = 8;
    private static final int IDENTITIES = 24;
    private static final int WAIT_SECONDS = 2;
    /** A request that takes longer than this hangs, as far as this test is concerned. */
    private static final long HANG_NANOS = TimeUnit.SECONDS.toNanos(WAIT_SECONDS + 20);

    @Test
    void requestsFailClearlyDuringTheOutageAndAllSucceedOnceTheDatabaseIsBack(Database db) throws Exception {
        ProxyraManagedConnectionFactory mcf = Factories.onUrl(db.url())
                .maxPoolSize(CLIENTS)
                .waitTimeout(WAIT_SECONDS)
                .build();
        ProxyraDataSource ds = Factories.dataSource(mcf);
        IdentityPool pool = mcf.pool();
        long outage;
        Clients clients = new Clients(ds, CLIENTS, IDENTITIES, CLIENTS * 50, 1, DatabaseRestartTest::clear);
        try (clients) {
            outage = clients.throughFault(db::stop, db::start);
        } finally {
            if (!db.isRunning()) {
                db.start();
            }
        }

        Scenario.figures("database-restart", "requests=" + clients.requests.get() + " ok=" + clients.ok.get()
                + " errors=" + clients.errors + " wrong=" + clients.wrong.size() + " outage=" + Scenario.seconds(outage)
                + " slowestFailure=" + clients.errors.slowest()
                + " recovery=" + Scenario.seconds(clients.recovery())
                + " failedAfterBack=" + clients.failedAfterFault.size() + " discarded=" + pool.discardedCount()
                + " physicalAtEnd=" + pool.totalCount() + " lentOut=" + pool.lentOut());
        try {
            assertThat(clients.wrong).as("wrong identities").isEmpty();
            assertThat(clients.unclear).as("errors that do not say the database is unavailable").isEmpty();
            assertThat(clients.errors.total()).isPositive();
            assertThat(clients.slowestFailure.get()).as("slowest failed request (ns): none may hang")
                    .isLessThan(HANG_NANOS);
            assertThat(clients.failedAfterFault).as("requests that began after the database was back and failed")
                    .isEmpty();
            assertThat(pool.lentOut()).as("leaked borrows").isZero();
            assertThat(pool.borrowedCount()).isZero();
            assertThat(pool.totalCount()).isLessThanOrEqualTo(CLIENTS);
            Scenario.assertEveryIdentityServed(ds, IDENTITIES);
            assertThat(pool.lentOut()).isZero();
        } finally {
            mcf.close();
        }
    }

    /**
     * A clear error says the database is unavailable: SQLState class 08 (connection exception) or 57P0x
     * (the server shut the session down); the adapter's own borrow failure says it is unreachable.
     */
    static boolean clear(SQLException e) {
        String state = e.getSQLState();
        if (state == null) {
            return false;
        }
        if ("08001".equals(state)) {
            return e.getMessage().startsWith("proxyra:") && e.getMessage().contains("unreachable");
        }
        return state.startsWith("08") || state.startsWith("57P0");
    }
}
