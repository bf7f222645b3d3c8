package dev.proxyra.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import dev.proxyra.jdbc.ProxyraDataSource;
import dev.proxyra.pool.IdentityPool;
import dev.proxyra.spi.ProxyraManagedConnectionFactory;
import dev.proxyra.testing.Database;
import dev.proxyra.testing.Factories;
import dev.proxyra.testing.LoopbackProxy;
import dev.proxyra.testing.RestartableDatabaseExtension;
import dev.proxyra.testing.TestCallers;

/**
 * Network black hole: the pool reaches PostgreSQL through a loopback TCP proxy that stops forwarding
 * without closing anything, as a dead route or a stuck firewall would. With NetworkTimeout set, requests
 * in flight and new ones fail with a connection error instead of hanging; once the proxy forwards
 * again, the same DataSource serves every client again. One extra request is always mid-query when the
 * forwarding stops, so that a connection timing out in use (and being discarded) is part of every run.
 */
@ExtendWith(RestartableDatabaseExtension.class)
class NetworkBlackHoleTest {
    private static final int CLIENTS = 4;
    private static final int IDENTITIES = 12;
    private static final int NETWORK_TIMEOUT = 2;
    private static final int WAIT_SECONDS = 3;
    /**
     * A request that takes longer than this did not fail "within the network timeout": the borrow's wait,
     * one network timeout for the connection it was finally given (validation, login or the query), and a
     * margin for a loaded machine. Without NetworkTimeout such a request never returns at all.
     */
    private static final long HANG_NANOS = TimeUnit.SECONDS.toNanos(WAIT_SECONDS + 2 * NETWORK_TIMEOUT + 5);

    @Test
    void requestsFailWithinTheNetworkTimeoutAndThePoolRecoversWhenTheNetworkDoes(Database db) throws Exception {
        try (LoopbackProxy network = new LoopbackProxy(db.port())) {
            ProxyraManagedConnectionFactory mcf = Factories.onUrl(network.url())
                    .maxPoolSize(CLIENTS)
                    .waitTimeout(WAIT_SECONDS)
                    .networkTimeout(NETWORK_TIMEOUT)
                    .build();
            ProxyraDataSource ds = Factories.dataSource(mcf);
            IdentityPool pool = mcf.pool();
            long blackHole;
            SQLException inFlightFailure;
            Clients clients = new Clients(ds, CLIENTS, IDENTITIES, CLIENTS * 50, 2, NetworkBlackHoleTest::clear);
            ExecutorService inFlightThread = Executors.newSingleThreadExecutor();
            try (clients) {
                CountDownLatch querying = new CountDownLatch(1);
                AtomicReference<Future<SQLException>> inFlight = new AtomicReference<>();
                blackHole = clients.throughFault(() -> {
                    inFlight.set(inFlightThread.submit(() -> queryThroughTheFault(ds, querying)));
                    assertThat(querying.await(60, TimeUnit.SECONDS)).as("the in-flight request has its connection").isTrue();
                    network.blackHole();
                }, network::resume);
                inFlightFailure = inFlight.get().get(HANG_NANOS, TimeUnit.NANOSECONDS);
            } finally {
                inFlightThread.shutdownNow();
            }

            Scenario.figures("network-black-hole", "requests=" + clients.requests.get() + " ok=" + clients.ok.get()
                    + " errors=" + clients.errors + " wrong=" + clients.wrong.size()
                    + " blackHole=" + Scenario.seconds(blackHole)
                    + " slowestFailure=" + clients.errors.slowest()
                    + " (NetworkTimeout=" + NETWORK_TIMEOUT + "s, ConnectionWaitTimeout=" + WAIT_SECONDS + "s)"
                    + " recovery=" + Scenario.seconds(clients.recovery())
                    + " failedAfterResume=" + clients.failedAfterFault.size()
                    + " inFlight=" + (inFlightFailure == null ? "ok" : inFlightFailure.getSQLState())
                    + " discarded=" + pool.discardedCount()
                    + " tcpConnections=" + network.accepted() + " physicalAtEnd=" + pool.totalCount()
                    + " lentOut=" + pool.lentOut());
            try {
                assertThat(clients.wrong).as("wrong identities").isEmpty();
                assertThat(clients.unclear).as("errors that are not connection errors").isEmpty();
                assertThat(clients.errors.total()).isPositive();
                assertThat(clients.slowestFailure.get()).as("slowest failed request (ns): none may hang")
                        .isLessThan(HANG_NANOS);
                assertThat(clients.failedAfterFault).as("requests that began after the network was back and failed")
                        .isEmpty();
                assertThat((Throwable) inFlightFailure).as("the request whose query was cut off by the black hole").isNotNull();
                assertThat(clear(inFlightFailure)).as("it failed with a connection error: " + inFlightFailure).isTrue();
                assertThat(pool.discardedCount()).as("connections that timed out are discarded").isPositive();
                assertThat(pool.lentOut()).as("leaked borrows").isZero();
                Scenario.assertEveryIdentityServed(ds, IDENTITIES);
                assertThat(pool.lentOut()).isZero();
            } finally {
                mcf.close();
            }
        }
    }

    /**
     * Takes a connection, signals {@code querying}, then runs a query that outlasts the network timeout: the
     * black hole starts during it. Returns how it failed (null if it did not).
     */
    private static SQLException queryThroughTheFault(ProxyraDataSource ds, CountDownLatch querying) {
        TestCallers.set(Scenario.caller(0));
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            querying.countDown();
            s.executeQuery("select pg_sleep(" + 3 * NETWORK_TIMEOUT + ")").close();
            return null;
        } catch (SQLException e) {
            return e;
        } finally {
            querying.countDown();
            TestCallers.set(null);
        }
    }

    /** A connection error: SQLState class 08 (I/O error, timeout, or the adapter's "unreachable"). */
    private static boolean clear(SQLException e) {
        String state = e.getSQLState();
        return state != null && state.startsWith("08");
    }
}
