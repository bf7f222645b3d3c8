package dev.proxyra.it;

import static dev.proxyra.testing.Sessions.currentUser;
import static dev.proxyra.testing.Sessions.whoami;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import dev.proxyra.jdbc.ProxyraDataSource;
import dev.proxyra.pool.IdentityPool;
import dev.proxyra.spi.ProxyraManagedConnectionFactory;
import dev.proxyra.testing.Database;
import dev.proxyra.testing.Factories;
import dev.proxyra.testing.PostgresExtension;
import dev.proxyra.testing.Sessions;
import dev.proxyra.testing.TestCallers;

/** Identity switching on a real PostgreSQL, non-managed mode. */
@ExtendWith(PostgresExtension.class)
class PostgresIdentityTest {
    private Database db;
    private ProxyraManagedConnectionFactory mcf;
    private ProxyraDataSource ds;

    @BeforeEach
    void setUp(Database db) {
        this.db = db;
        mcf = Factories.on(db).build();
        ds = Factories.dataSource(mcf);
    }

    @AfterEach
    void tearDown() {
        TestCallers.set(null);
        mcf.close();
    }

    private List<String> notes(Connection c) throws SQLException {
        List<String> bodies = new ArrayList<>();
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("select body from notes order by id")) {
            while (rs.next()) {
                bodies.add(rs.getString(1));
            }
        }
        return bodies;
    }

    @Test
    void aliceAndBobEachSeeTheirOwnUserAndRows() throws Exception {
        TestCallers.as("alice", () -> {
            try (Connection c = ds.getConnection()) {
                assertThat(whoami(c)).containsExactly("alice", Database.PROXY_USER);
                assertThat(notes(c)).containsExactly("alice: quarterly figures", "alice: travel plan");
            }
            return null;
        });
        TestCallers.as("bob", () -> {
            try (Connection c = ds.getConnection()) {
                assertThat(whoami(c)).containsExactly("bob", Database.PROXY_USER);
                assertThat(notes(c)).containsExactly("bob: shopping list");
            }
            return null;
        });
    }

    @Test
    void sixteenThreadsOverFiftyIdentitiesNeverSeeAnotherIdentity() throws Exception {
        int threads = 16;
        int borrows = 2_000;
        AtomicInteger wrong = new AtomicInteger();
        AtomicInteger done = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int thread = t;
                futures.add(pool.submit(() -> {
                    for (int i = 0; i < borrows; i++) {
                        String caller = String.format("caller%03d", 1 + (thread * 7 + i * 13) % 50);
                        TestCallers.set(caller);
                        try (Connection c = ds.getConnection()) {
                            String[] who = whoami(c);
                            if (!who[0].equals(caller) || !who[1].equals(Database.PROXY_USER)) {
                                wrong.incrementAndGet();
                            }
                            done.incrementAndGet();
                        }
                    }
                    TestCallers.set(null);
                    return null;
                }));
            }
            for (Future<?> f : futures) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
        IdentityPool identityPool = mcf.pool();
        System.out.printf("identity load: %d borrows, %d wrong identities, %d switches, %d physical, %d lent out%n",
                done.get(), wrong.get(), identityPool.identitySwitches(), identityPool.totalCount(),
                identityPool.lentOut());
        assertThat(done.get()).isEqualTo(threads * borrows);
        assertThat(wrong.get()).isZero();
        assertThat(identityPool.lentOut()).isZero();
        assertThat(identityPool.borrowedCount()).isZero();
        assertThat(identityPool.totalCount()).isLessThanOrEqualTo(8);
    }

    @Test
    void theSameCallerReusesItsWarmSessionWithoutSwitchingAgain() throws Exception {
        IdentityPool pool = mcf.pool();
        TestCallers.set("alice");
        int firstPid;
        try (Connection c = ds.getConnection()) {
            firstPid = Sessions.backendPid(c);
        }
        long switchesAfterFirst = pool.identitySwitches();
        assertThat(switchesAfterFirst).isEqualTo(1);
        for (int i = 0; i < 20; i++) {
            try (Connection c = ds.getConnection()) {
                assertThat(Sessions.backendPid(c)).isEqualTo(firstPid);
                assertThat(currentUser(c)).isEqualTo("alice");
            }
        }
        assertThat(pool.identitySwitches()).isEqualTo(switchesAfterFirst);
    }

    @ParameterizedTest
    @ValueSource(strings = {"alice", "bob"})
    void aPooledSessionKilledWhileIdleIsReplacedNotReported(String nextCaller) throws Exception {
        mcf.close();
        mcf = Factories.on(db)
                .maxPoolSize(1)
                .validateOnBorrow("false") // whether UCP or the adapter's check meets it, nobody sees it
                .build();
        ds = Factories.dataSource(mcf);
        TestCallers.set("alice");
        int killedPid;
        try (Connection c = ds.getConnection()) {
            killedPid = Sessions.backendPid(c);
        }
        db.execute("select pg_terminate_backend(" + killedPid + ")");

        TestCallers.set(nextCaller);
        try (Connection c = ds.getConnection()) {
            assertThat(currentUser(c)).isEqualTo(nextCaller);
            assertThat(Sessions.backendPid(c)).isNotEqualTo(killedPid);
        }
        assertThat(mcf.pool().lentOut()).isZero();
    }

    @Test
    void aCallerThatCannotBeResolvedIsRefusedAndNothingRunsAsTheProxy() throws Exception {
        TestCallers.set(null);
        assertThatThrownBy(ds::getConnection)
                .isInstanceOf(SQLException.class)
                .hasMessageContaining("no caller could be resolved")
                .hasMessageContaining("CallerSource " + TestCallers.class.getName())
                .hasMessageContaining("UnauthenticatedAccess=DENY")
                .extracting(e -> ((SQLException) e).getSQLState()).isEqualTo("28000");
        assertThat(mcf.pool().totalCount()).isZero();
        assertPoolHealthy();
    }

    @ParameterizedTest
    @ValueSource(strings = {"nobody_here", "mallory", "alice\"; drop table x; --", "x'; reset role; --"})
    void unknownUngrantedAndHostileNamesAreRefusedWithTheCause(String caller) throws Exception {
        TestCallers.set(caller);
        assertThatThrownBy(ds::getConnection)
                .isInstanceOf(SQLException.class)
                .hasMessageContaining("may not act as database user '" + caller + "'")
                .extracting(e -> ((SQLException) e).getSQLState()).isEqualTo("28000");
        assertThat(mcf.pool().lentOut()).isZero();
        db.execute("select 1 from x"); // the injection target still exists
        assertPoolHealthy();
    }

    @ParameterizedTest
    @ValueSource(strings = {"o'brien \"x\"", "with space", "Zoë Ünïcødé"})
    void namesThatNeedQuotingWork(String caller) throws Exception {
        TestCallers.set(caller);
        try (Connection c = ds.getConnection()) {
            assertThat(currentUser(c)).isEqualTo(caller);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "  ", "al\u0000ice", "bob\nadmin", "a\u202Eb"})
    void emptyAndControlCharacterNamesAreRefusedBeforeAnySql(String caller) throws Exception {
        TestCallers.set(caller);
        assertThatThrownBy(ds::getConnection)
                .isInstanceOf(SQLException.class)
                .hasMessageMatching("(?s)proxyra: the database user .* (is empty|contains a control character).*")
                .extracting(e -> ((SQLException) e).getSQLState()).isEqualTo("28000");
        assertThat(mcf.pool().totalCount()).isZero();
    }

    @Test
    void anOverlongNameIsRefused() throws Exception {
        TestCallers.set("a".repeat(64));
        assertThatThrownBy(ds::getConnection)
                .hasMessageContaining("is 64 bytes long; postgresql allows at most 63")
                .extracting(e -> ((SQLException) e).getSQLState()).isEqualTo("28000");
    }

    @Test
    void explicitUserIsRefusedUnlessAllowedAndAPasswordIsRefusedOnPostgres() throws Exception {
        assertThatThrownBy(() -> ds.getConnection("alice", null))
                .hasMessageContaining("AllowExplicitUser=true")
                .extracting(e -> ((SQLException) e).getSQLState()).isEqualTo("28000");
        mcf.setAllowExplicitUser("true");
        try (Connection c = ds.getConnection("alice", null)) {
            assertThat(currentUser(c)).isEqualTo("alice");
        }
        assertThatThrownBy(() -> ds.getConnection("alice", "secret"))
                .hasMessageContaining("password cannot be checked on PostgreSQL")
                .hasMessageNotContaining("secret")
                .extracting(e -> ((SQLException) e).getSQLState()).isEqualTo("28000");
    }

    @Test
    void unauthenticatedAccessProxyUserRunsAsTheProxyAccountOnlyWhenConfigured() throws Exception {
        mcf.setUnauthenticatedAccess("PROXY_USER");
        TestCallers.set("alice");
        try (Connection c = ds.getConnection()) {
            assertThat(currentUser(c)).isEqualTo("alice");
        }
        TestCallers.set(null);
        try (Connection c = ds.getConnection()) {
            assertThat(whoami(c)).containsExactly(Database.PROXY_USER, Database.PROXY_USER);
        }
    }

    /** After any refusal, alice still gets her own session and nothing is lent out. */
    private void assertPoolHealthy() throws Exception {
        TestCallers.as("alice", () -> {
            try (Connection c = ds.getConnection()) {
                assertThat(currentUser(c)).isEqualTo("alice");
            }
            return null;
        });
        assertThat(mcf.pool().lentOut()).isZero();
    }
}
