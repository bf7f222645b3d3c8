package dev.proxyra.it.servers;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

import dev.proxyra.it.support.DemoClient;
import dev.proxyra.it.support.DemoClient.Reply;
import dev.proxyra.it.support.IntegrationSuite;
import dev.proxyra.it.support.ItDatabase;
import dev.proxyra.it.support.SuiteDatabaseRestart;
import dev.proxyra.it.support.WireFailpoint;

/**
 * The one scenario set every server runs, over HTTP as a client would: the same proxyra.rar, demo.war and test wars on
 * each, configured the way the server's users configure it. A subclass only says which server.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
public abstract class ServerScenarios {
    protected DemoServer server;
    protected DemoClient demo;
    protected DemoClient plain;
    protected DemoClient ejb;
    protected DemoClient xa;
    /** Between the XA pools and the database: where a crash is placed between two statements of the protocol. */
    protected WireFailpoint wire;

    /** The server under test, not started. */
    protected abstract DemoServer create(ServerEnvironment env) throws Exception;

    /** The directory name of this server's work directory. */
    protected abstract String id();

    @BeforeAll
    void startServer() throws Exception {
        wire = new WireFailpoint(IntegrationSuite.database().port());
        server = create(ServerEnvironment.forServer(id()).withXaPort(wire.port()));
        grantARoleNamedLikeTheAnonymousIdentity(server.anonymousName());
        try {
            server.start();
        } catch (Exception | Error e) {
            server.close();
            throw e;
        }
        demo = new DemoClient(server.demo());
        plain = new DemoClient(server.plain());
        ejb = new DemoClient(server.ejb());
        xa = new DemoClient(server.xa());
    }

    @AfterAll
    void stopServer() throws Exception {
        try {
            if (server != null) {
                server.close();
            }
        } finally {
            if (wire != null) {
                wire.close();
            }
            // only a scenario that failed leaves anything prepared (each asserts so): not the next server's problem
            IntegrationSuite.database().rollBackEveryPreparedTransaction();
        }
    }

    /**
     * The bait: a database role named like the server's anonymous identity, which the proxy account may become and
     * which may read and write the demo's rows. Were proxyra ever to take the anonymous identity for a caller, an
     * anonymous request would run as it and succeed.
     */
    private static void grantARoleNamedLikeTheAnonymousIdentity(String name) throws Exception {
        String role = "\"" + name.replace("\"", "\"\"") + "\"";
        try (Connection c = IntegrationSuite.database().superuser(); Statement s = c.createStatement()) {
            try (ResultSet rs = s.executeQuery("select count(*) from pg_roles where rolname = '" + name + "'")) {
                rs.next();
                if (rs.getInt(1) == 0) {
                    s.execute("CREATE ROLE " + role + " NOLOGIN");
                }
            }
            s.execute("GRANT " + role + " TO app_proxy");
            s.execute("GRANT SELECT, INSERT ON orders TO " + role);
        }
    }

    @Test
    @Order(1)
    void signedInCallersRunAsThemselvesAndSeeOnlyTheirOwnRows() throws Exception {
        String aliceItem = "alice-" + UUID.randomUUID();
        String bobItem = "bob-" + UUID.randomUUID();
        assertThat(demo.post("orders", "alice", "item", aliceItem).expect(200).text("owner")).isEqualTo("alice");
        assertThat(demo.post("orders", "bob", "item", bobItem).expect(200).text("owner")).isEqualTo("bob");
        for (String[] who : new String[][] {{"alice", aliceItem, bobItem}, {"bob", bobItem, aliceItem}}) {
            Reply r = demo.get("whoami", who[0]).expect(200);
            assertThat(r.text("caller")).isEqualTo(who[0]);
            assertThat(r.text("databaseUser")).isEqualTo(who[0]);
            assertThat(r.text("sessionUser")).isEqualTo("app_proxy");
            assertThat(r.rows("item")).contains(who[1]).doesNotContain(who[2]);
            assertThat(r.rows("owner")).containsOnly(who[0]);
        }
        assertThat(IntegrationSuite.database().ownerOfItem(aliceItem)).isEqualTo("alice");
        assertThat(IntegrationSuite.database().ownerOfItem(bobItem)).isEqualTo("bob");
    }

    @Test
    @Order(2)
    void aCallerWithoutADatabaseRoleIsRefusedWith28000InEveryKindOfApplication() throws Exception {
        for (Reply carol : List.of(demo.get("whoami", "carol"), plain.get("whoami", "carol"), ejb.get("ejb", "carol"),
                ejb.get("executor", "carol"))) {
            assertThat(carol.status()).as(carol.toString()).isEqualTo(403);
            assertThat(carol.text("sqlState")).isEqualTo("28000");
            assertThat(carol.text("message")).startsWith("proxyra:").contains("carol");
        }
    }

    /**
     * A refusal must give back what the server lent for the attempt: more refusals than any of the servers' pools has
     * managed connections by default (Payara 32, WildFly 20, Open Liberty 50), then the pool still serves alice.
     */
    @Test
    @Order(2)
    void refusedCallersDoNotUseUpTheServersPool() throws Exception {
        for (int i = 0; i < 60; i++) {
            Reply carol = i % 2 == 0 ? demo.get("whoami", "carol") : plain.get("whoami", "carol");
            assertThat(carol.status()).as("refusal %d: %s", i + 1, carol).isEqualTo(403);
            assertThat(carol.text("sqlState")).as("refusal %d: %s", i + 1, carol).isEqualTo("28000");
        }
        assertThat(demo.get("whoami", "alice").expect(200).text("databaseUser")).isEqualTo("alice");
    }

    @Test
    @Order(3)
    void theServersAnonymousIdentityIsNoCallerEvenWithARoleOfItsName() throws Exception {
        try (Connection c = IntegrationSuite.database().superuser(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("select pg_has_role('app_proxy', '" + server.anonymousName() + "', 'MEMBER')")) {
            rs.next();
            assertThat(rs.getBoolean(1)).as("the bait role " + server.anonymousName() + " is there").isTrue();
        }
        for (Reply anonymous : List.of(demo.get("public/whoami", null), plain.get("public/whoami", null),
                demo.get("public/jpa/orders", null))) {
            assertThat(anonymous.status()).as(anonymous.toString()).isEqualTo(403);
            assertThat(anonymous.text("sqlState")).isEqualTo("28000");
            assertThat(anonymous.text("message")).startsWith("proxyra:").contains("UnauthenticatedAccess=METADATA_ONLY");
        }
        // and the protected pages ask for credentials before any database work
        assertThat(demo.get("whoami", null).status()).isEqualTo(401);
        assertThat(plain.get("whoami", null).status()).isEqualTo(401);
        // a refusal is an answer: JPA did not take it for a lost connection and retry (RefusalsAreAnswers)
        assertThat(server.log()).doesNotContain("Attempting to retry query");
    }

    @Test
    @Order(4)
    void aServletWithoutCdiOrJakartaSecurityGetsTheCallerTheServerSignedIn() throws Exception {
        for (String user : new String[] {"alice", "bob"}) {
            Reply r = plain.get("whoami", user).expect(200);
            assertThat(r.text("caller")).isEqualTo(user);
            assertThat(r.text("databaseUser")).isEqualTo(user);
            assertThat(r.text("sessionUser")).isEqualTo("app_proxy");
        }
    }

    @Test
    @Order(5)
    void anEjbRunsAsItsCaller() throws Exception {
        Reply r = ejb.get("ejb", "alice").expect(200);
        assertThat(r.text("caller")).isEqualTo("alice");
        assertThat(r.text("databaseUser")).isEqualTo("alice");
    }

    @Test
    @Order(6)
    void aManagedExecutorTaskRunsAsTheCallerWhoSubmittedIt() throws Exception {
        for (String user : new String[] {"alice", "bob"}) {
            assertThat(ejb.get("executor", user).expect(200).text("databaseUser")).isEqualTo(user);
        }
    }

    @Test
    @Order(7)
    void codeUnderRunAsRunsAsTheRunAsPrincipal() throws Exception {
        Reply r = ejb.get("runas", "alice").expect(200);
        assertThat(r.text("databaseUser")).isEqualTo(TestWars.RUN_AS);
        assertThat(r.text("caller")).isEqualTo(TestWars.RUN_AS);
    }

    @Test
    @Order(8)
    void aConnectionFactoryTheApplicationDefinesServesTheCallerToo() throws Exception {
        Reply alice = demo.get("annotated/whoami", "alice").expect(200);
        assertThat(alice.text("databaseUser")).isEqualTo("alice");
        assertThat(alice.text("sessionUser")).isEqualTo("app_proxy");
        Reply carol = demo.get("annotated/whoami", "carol").expect(403);
        assertThat(carol.text("sqlState")).isEqualTo("28000");
    }

    @Test
    @Order(10)
    void userTransactionCommitPersistsAsTheCaller() throws Exception {
        String item = "tx-commit-" + UUID.randomUUID();
        Reply r = demo.post("tx/commit", "alice", "item", item).expect(200);
        assertThat(r.json().getJsonObject("committed").getString("owner")).isEqualTo("alice");
        assertThat(demo.get("orders", "bob").expect(200).rows("item")).doesNotContain(item);
        assertThat(IntegrationSuite.database().ownerOfItem(item)).isEqualTo("alice");
    }

    @Test
    @Order(11)
    void userTransactionRollbackLeavesNothing() throws Exception {
        String item = "tx-rollback-" + UUID.randomUUID();
        Reply r = demo.post("tx/rollback", "bob", "item", item).expect(200);
        assertThat(r.json().getJsonObject("rolledBack").getString("owner")).isEqualTo("bob");
        assertThat(IntegrationSuite.database().ownerOfItem(item)).isNull();
    }

    @Test
    @Order(12)
    void aTransactionalBeanThatThrowsRollsBack() throws Exception {
        String item = "tx-transactional-" + UUID.randomUUID();
        assertThat(demo.post("tx/transactional-failure", "alice", "item", item).expect(409).text("rolledBack"))
                .isEqualTo(item);
        assertThat(IntegrationSuite.database().ownerOfItem(item)).isNull();
    }

    @Test
    @Order(13)
    void twoConnectionsInOneTransactionShareOneDatabaseSession() throws Exception {
        for (String user : new String[] {"alice", "bob"}) {
            Reply r = demo.get("tx/session", user).expect(200);
            int first = r.json().getInt("first");
            assertThat(first).isPositive();
            assertThat(r.json().getInt("second")).isEqualTo(first);
            assertThat(r.json().getInt("nestedOuter")).isEqualTo(first);
            assertThat(r.json().getInt("nestedInner")).isEqualTo(first);
            assertThat(r.text("databaseUser")).isEqualTo(user);
        }
    }

    @Test
    @Order(20)
    void jpaWritesAndReadsAsTheCaller() throws Exception {
        String item = "jpa-" + UUID.randomUUID();
        String id = demo.post("jpa/orders", "alice", "item", item).expect(200).text("id");
        assertThat(IntegrationSuite.database().ownerOfItem(item)).isEqualTo("alice");
        assertThat(demo.get("jpa/orders", "alice").expect(200).rows("owner")).containsOnly("alice");
        assertThat(demo.get("jpa/orders/" + id, "alice").expect(200).text("owner")).isEqualTo("alice");
        assertThat(demo.get("jpa/orders", "bob").expect(200).rows("item")).doesNotContain(item);
        demo.get("jpa/orders/" + id, "bob").expect(404);
        Reply carol = demo.post("jpa/orders", "carol", "item", "jpa-carol-" + UUID.randomUUID());
        assertThat(carol.status()).isEqualTo(403);
        assertThat(carol.text("sqlState")).isEqualTo("28000");
    }

    @Test
    @Order(30)
    void concurrentCallersNeverSeeAnotherIdentity() throws Exception {
        List<String> users = List.of("alice", "bob", "carol");
        int clients = 8;
        int requests = 40;
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        try {
            List<Future<List<String>>> results = new ArrayList<>();
            for (int c = 0; c < clients; c++) {
                int client = c;
                Callable<List<String>> run = () -> {
                    List<String> wrong = new ArrayList<>();
                    for (int i = 0; i < requests; i++) {
                        String user = users.get((client + i) % users.size());
                        DemoClient app = i % 2 == 0 ? demo : plain;
                        Reply r = app.get("whoami", user);
                        if (user.equals("carol")) {
                            if (r.status() != 403 || !"28000".equals(r.text("sqlState"))) {
                                wrong.add("carol was not refused: " + r);
                            }
                        } else if (r.status() != 200 || !user.equals(r.text("databaseUser"))
                                || !user.equals(r.text("caller"))) {
                            wrong.add(user + " got " + r);
                        }
                    }
                    return wrong;
                };
                results.add(pool.submit(run));
            }
            List<String> wrong = new ArrayList<>();
            for (Future<List<String>> f : results) {
                wrong.addAll(f.get());
            }
            assertThat(wrong).as("answers with a wrong identity out of " + clients * requests).isEmpty();
        } finally {
            pool.shutdownNow();
        }
    }

    /**
     * One UserTransaction over two XA pools on two databases commits both as the caller, by a real two-phase commit:
     * each database's statement log shows its branch prepared and then committed by {@code COMMIT PREPARED} (so
     * neither was a one-phase or last-resource commit), both branches of one global transaction (same global id, two
     * branch qualifiers in pgjdbc's gid format), and nothing is left prepared.
     */
    @Test
    @Order(60)
    void anXaTransactionOverTwoDatabasesCommitsBothAsTheCallerInTwoPhases() throws Exception {
        long mark = Files.size(IntegrationSuite.database().statementLog());
        String item = "xa-commit-" + UUID.randomUUID();
        Reply r = xa.post("xa/commit", "alice", "item", item).expect(200);
        assertThat(r.text("stock")).isEqualTo("alice");
        assertThat(r.text("ledger")).isEqualTo("alice");
        for (String database : ItDatabase.XA_DATABASES) {
            assertThat(IntegrationSuite.database().ownerOfEntry(database, item)).as(database).isEqualTo("alice");
        }
        assertOneGlobalTransactionInTwoPhases(mark);
        assertThat(IntegrationSuite.database().preparedTransactions()).isEmpty();
    }

    @Test
    @Order(61)
    void anXaRollbackLeavesNothingInEitherDatabase() throws Exception {
        String item = "xa-rollback-" + UUID.randomUUID();
        Reply r = xa.post("xa/rollback", "bob", "item", item).expect(200);
        assertThat(r.text("outcome")).isEqualTo("rolledBack");
        assertThat(r.text("stock")).isEqualTo("bob");
        for (String database : ItDatabase.XA_DATABASES) {
            assertThat(IntegrationSuite.database().ownerOfEntry(database, item)).as(database).isNull();
        }
        assertThat(IntegrationSuite.database().preparedTransactions()).isEmpty();
    }

    /** alice and bob at once: every branch runs as the caller whose transaction it is, in both databases. */
    @Test
    @Order(62)
    void concurrentXaTransactionsNeverShareABranchOrAnIdentity() throws Exception {
        int clients = 6;
        int requests = 8;
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        try {
            List<Future<List<String>>> results = new ArrayList<>();
            for (int c = 0; c < clients; c++) {
                String user = c % 2 == 0 ? "alice" : "bob";
                results.add(pool.submit(() -> {
                    List<String> wrong = new ArrayList<>();
                    for (int i = 0; i < requests; i++) {
                        String item = "xa-concurrent-" + user + "-" + UUID.randomUUID();
                        Reply r = xa.post("xa/commit", user, "item", item);
                        if (r.status() != 200 || !user.equals(r.text("stock")) || !user.equals(r.text("ledger"))) {
                            wrong.add(user + " got " + r);
                            continue;
                        }
                        for (String database : ItDatabase.XA_DATABASES) {
                            String owner = IntegrationSuite.database().ownerOfEntry(database, item);
                            if (!user.equals(owner)) {
                                wrong.add(user + "'s " + item + " in " + database + " is owned by " + owner);
                            }
                        }
                    }
                    return wrong;
                }));
            }
            List<String> wrong = new ArrayList<>();
            for (Future<List<String>> f : results) {
                wrong.addAll(f.get());
            }
            assertThat(wrong).as("XA transactions with a wrong identity out of " + clients * requests).isEmpty();
        } finally {
            pool.shutdownNow();
        }
        assertThat(IntegrationSuite.database().preparedTransactions()).isEmpty();
    }

    /**
     * proxyra in one JTA transaction with the server's own XA data source (pgjdbc's PGXADataSource on the ledger
     * database, configured as each server's users configure one): a real two-phase commit over both, proxyra's branch
     * as the caller and the other as the data source's own user, then a rollback that leaves nothing in either.
     */
    @Test
    @Order(63)
    void anXaTransactionWithTheServersOwnXaDataSourceCommitsBothInTwoPhases() throws Exception {
        long mark = Files.size(IntegrationSuite.database().statementLog());
        String item = "xa-mixed-commit-" + UUID.randomUUID();
        Reply r = xa.post("xa/mixed/commit", "alice", "item", item).expect(200);
        assertThat(r.text("stock")).as("proxyra's branch").isEqualTo("alice");
        assertThat(r.text("ledger")).as("the server's own data source").isEqualTo(NativeXaDataSource.USER);
        assertThat(IntegrationSuite.database().ownerOfEntry("stock", item)).isEqualTo("alice");
        assertThat(IntegrationSuite.database().ownerOfEntry("ledger", item)).isEqualTo(NativeXaDataSource.USER);
        assertOneGlobalTransactionInTwoPhases(mark);

        String rolledBack = "xa-mixed-rollback-" + UUID.randomUUID();
        assertThat(xa.post("xa/mixed/rollback", "bob", "item", rolledBack).expect(200).text("outcome"))
                .isEqualTo("rolledBack");
        for (String database : ItDatabase.XA_DATABASES) {
            assertThat(IntegrationSuite.database().ownerOfEntry(database, rolledBack)).as(database).isNull();
        }
        assertThat(IntegrationSuite.database().preparedTransactions()).isEmpty();
    }

    /**
     * Since {@code mark}, the statement log shows in each XA database a branch prepared and then committed by
     * {@code COMMIT PREPARED} (so neither was a one-phase or last-resource commit), both of one global transaction
     * (same global id, two branch qualifiers in pgjdbc's gid format); nothing is left prepared.
     */
    private static void assertOneGlobalTransactionInTwoPhases(long mark) throws Exception {
        Map<String, String> gids = new HashMap<>();
        ServerProcess.await("both branches committed in the statement log", Duration.ofSeconds(30),
                IntegrationSuite.database().statementLog().getParent(), () -> {
                    String log = statementLogSince(mark);
                    gids.clear();
                    for (String database : ItDatabase.XA_DATABASES) {
                        Matcher prepared = Pattern.compile("db=" + database
                                + ":LOG:  (?:statement|execute [^:]*): PREPARE TRANSACTION '([^']+)'")
                                .matcher(log);
                        if (!prepared.find()) {
                            return false;
                        }
                        String gid = prepared.group(1);
                        if (!Pattern.compile("db=" + database + ":LOG:  (?:statement|execute [^:]*): COMMIT PREPARED '"
                                + Pattern.quote(gid) + "'").matcher(log).find()) {
                            return false;
                        }
                        gids.put(database, gid);
                    }
                    return true;
                });
        String[] stock = gids.get("stock").split("_");
        String[] ledger = gids.get("ledger").split("_");
        assertThat(stock).as("pgjdbc's gid format: formatId_globalId_branchQualifier").hasSize(3);
        assertThat(ledger).hasSize(3);
        assertThat(stock[1]).as("one global transaction").isEqualTo(ledger[1]);
        assertThat(stock[2]).as("two branches").isNotEqualTo(ledger[2]);
        assertThat(IntegrationSuite.database().preparedTransactions()).isEmpty();
    }

    /**
     * The server killed (SIGKILL) while its transaction manager commits: both branches are prepared, as alice, and the
     * first {@code COMMIT PREPARED} is held on the wire (WireFailpoint), so neither is committed when the server dies.
     * Restarted on its configuration and transaction log, the server's recovery asks proxyra for the branches in doubt
     * and commits each as its owner: the proxy account is no superuser, so a commit that succeeds ran as alice.
     */
    @Test
    @Order(70)
    void aServerKilledBetweenPrepareAndCommitCommitsBothBranchesAsTheCallerByRecoveryAfterItsRestart() throws Exception {
        String item = "xa-crash-commit-" + UUID.randomUUID();
        List<String> gids = crashWhile(wire.hold("COMMIT PREPARED", 1), "alice", item, 2);
        long mark = Files.size(IntegrationSuite.database().statementLog());
        restartAndAwaitRecovery();
        for (String database : ItDatabase.XA_DATABASES) {
            assertThat(IntegrationSuite.database().ownerOfEntry(database, item)).as(database).isEqualTo("alice");
        }
        String log = statementLogSince(mark);
        for (String gid : gids) {
            assertThat(log).as("recovery's commit of " + gid).contains("COMMIT PREPARED '" + gid + "'");
        }
        assertNoHeuristicOutcomeAndThePoolsServeAgain();
    }

    /**
     * The server killed while the second branch prepares (its PREPARE TRANSACTION held on the wire): the first branch
     * is prepared and the transaction manager never decided to commit, so recovery rolls that branch back, as its
     * owner; nothing of the transaction is left in either database.
     */
    @Test
    @Order(71)
    void aServerKilledDuringTheSecondPrepareRollsTheFirstBranchBackByRecoveryAfterItsRestart() throws Exception {
        String item = "xa-crash-prepare-" + UUID.randomUUID();
        List<String> gids = crashWhile(wire.hold("PREPARE TRANSACTION", 2), "bob", item, 1);
        long mark = Files.size(IntegrationSuite.database().statementLog());
        restartAndAwaitRecovery();
        for (String database : ItDatabase.XA_DATABASES) {
            assertThat(IntegrationSuite.database().ownerOfEntry(database, item)).as(database).isNull();
        }
        assertThat(statementLogSince(mark)).contains("ROLLBACK PREPARED '" + gids.get(0) + "'");
        assertNoHeuristicOutcomeAndThePoolsServeAgain();
    }

    /**
     * The server killed between prepare and commit of a transaction over proxyra's pool and the server's own XA data
     * source (pgjdbc's PGXADataSource on the ledger database, which reaches PostgreSQL directly, not through the wire):
     * proxyra's COMMIT PREPARED is held, so its branch is prepared as alice when the server dies (the other one too,
     * unless the transaction manager committed it first). After the restart, recovery finishes each with its own
     * resource: proxyra's as alice, the data source's as its user; nothing is left prepared, and no heuristic outcome.
     */
    @Test
    @Order(74)
    void aServerKilledBetweenPrepareAndCommitWithItsOwnXaDataSourceCommitsBothByRecovery() throws Exception {
        String item = "xa-mixed-crash-" + UUID.randomUUID();
        crashWhile(wire.hold("COMMIT PREPARED", 1), "xa/mixed/commit", "alice", item, inDoubt -> assertThat(inDoubt)
                .as("prepared when the server dies").anyMatch(p -> p.startsWith("stock ") && p.endsWith(" owner=alice"))
                .allMatch(p -> p.endsWith(" owner=alice") || p.endsWith(" owner=" + NativeXaDataSource.USER)));
        restartAndAwaitRecovery();
        assertThat(IntegrationSuite.database().ownerOfEntry("stock", item)).isEqualTo("alice");
        assertThat(IntegrationSuite.database().ownerOfEntry("ledger", item)).isEqualTo(NativeXaDataSource.USER);
        assertNoHeuristicOutcomeAndThePoolsServeAgain();
    }

    /**
     * PostgreSQL restarted (fast shutdown, then start) while the transaction manager commits: both branches prepared as
     * alice, the first COMMIT PREPARED held on the wire, so its connection breaks (a prepared branch survives the
     * restart with its owner). The server stays up, and the commit is finished within the application's call: proxyra
     * tries it again as the owner on other sessions while ConnectionWaitTimeout lasts, and the database is back within
     * it. The application is told it committed, both rows are alice's, nothing is left prepared before any recovery
     * pass, and no heuristic outcome is reported.
     */
    @Test
    @Order(72)
    void theDatabaseRestartedBetweenPrepareAndCommitIsRiddenOutWithinTheCommit() throws Exception {
        String item = "xa-db-restart-" + UUID.randomUUID();
        ExecutorService client = Executors.newSingleThreadExecutor();
        try {
            Future<Reply> request = commitUntil(client, wire.hold("COMMIT PREPARED", 1), "alice", item);
            assertThat(IntegrationSuite.database().preparedTransactions()).hasSize(2)
                    .allMatch(p -> p.endsWith(" owner=alice"));
            SuiteDatabaseRestart restart = new SuiteDatabaseRestart();
            restart.stop();
            wire.disarm();
            restart.start();
            assertCommittedWithinTheCall(request.get(5, java.util.concurrent.TimeUnit.MINUTES), item);
        } finally {
            client.shutdownNow();
        }
    }

    /**
     * The first COMMIT PREPARED reached the database and ran, but its answer was lost and its connection then broke
     * (WireFailpoint.loseAnswer): proxyra's next try finds no such branch, which means the lost one committed. The
     * transaction manager is told the branch committed, not "unknown branch" (a heuristic hazard to it), and goes on
     * to commit the second.
     */
    @Test
    @Order(73)
    void aCommitWhoseAnswerWasLostIsDoneWithoutAHeuristicOutcome() throws Exception {
        String item = "xa-lost-answer-" + UUID.randomUUID();
        ExecutorService client = Executors.newSingleThreadExecutor();
        try {
            WireFailpoint.Hold lost = wire.loseAnswer("COMMIT PREPARED", 1);
            Future<Reply> request = commitUntil(client, lost, "alice", item);
            ServerProcess.await("the first COMMIT PREPARED ran in the database", Duration.ofMinutes(1),
                    IntegrationSuite.database().statementLog().getParent(),
                    () -> {
                        try {
                            return IntegrationSuite.database().preparedTransactions().size() == 1;
                        } catch (java.sql.SQLException e) {
                            throw new IllegalStateException(e);
                        }
                    });
            assertThat(request).as("its answer was lost: the application still waits").isNotDone();
            lost.cut();
            assertCommittedWithinTheCall(request.get(5, java.util.concurrent.TimeUnit.MINUTES), item);
        } finally {
            client.shutdownNow();
        }
    }

    /**
     * The application was told its XA transaction committed, both rows are alice's, nothing is left prepared (no
     * recovery pass was asked for), and the server reports no heuristic outcome.
     */
    private void assertCommittedWithinTheCall(Reply r, String item) throws Exception {
        assertThat(r.status()).as("what the application was told: " + r.body() + "; the server's XA log lines: "
                + xaLogLines()).isEqualTo(200);
        assertThat(r.text("outcome")).isEqualTo("committed");
        assertThat(IntegrationSuite.database().preparedTransactions()).as("left prepared after the commit returned;"
                + " the server's XA log lines: " + xaLogLines()).isEmpty();
        for (String database : ItDatabase.XA_DATABASES) {
            assertThat(IntegrationSuite.database().ownerOfEntry(database, item)).as(database).isEqualTo("alice");
        }
        assertNoHeuristicOutcomeAndThePoolsServeAgain();
    }

    /** The lines of the server's log about XA (for a failure's message). */
    private String xaLogLines() throws IOException {
        return server.log().lines().filter(l -> l.contains("XAER") || l.contains("PREPARED") || l.contains("XAException")
                || l.contains("ARJUNA") || l.contains("WTRN") || l.contains("JTS")).limit(40)
                .collect(java.util.stream.Collectors.joining("\n"));
    }

    /** {@link #crashWhile} on xa/commit, with {@code prepared} branches prepared as the caller when the server dies. */
    private List<String> crashWhile(WireFailpoint.Hold hold, String caller, String item, int prepared) throws Exception {
        return crashWhile(hold, "xa/commit", caller, item, inDoubt -> assertThat(inDoubt)
                .as("prepared when the server dies").hasSize(prepared).allMatch(p -> p.endsWith(" owner=" + caller)));
    }

    /**
     * Starts {@code caller}'s XA commit of {@code item} on {@code path}, waits until {@code hold} keeps its statement
     * from the database, checks what is prepared then with {@code whenItDies}, kills the server and returns the gids.
     */
    private List<String> crashWhile(WireFailpoint.Hold hold, String path, String caller, String item,
            java.util.function.Consumer<List<String>> whenItDies) throws Exception {
        ExecutorService client = Executors.newSingleThreadExecutor();
        try {
            Future<Reply> request = commitUntil(client, hold, path, caller, item);
            List<String> inDoubt = IntegrationSuite.database().preparedTransactions();
            whenItDies.accept(inDoubt);
            server.crash();
            wire.disarm();
            try {
                assertThat(request.get(1, java.util.concurrent.TimeUnit.MINUTES).status())
                        .as("the request whose server died").isNotEqualTo(200);
            } catch (java.util.concurrent.ExecutionException e) {
                assertThat(e.getCause()).as("the request whose server died").isInstanceOf(IOException.class);
            }
            return inDoubt.stream().map(p -> p.split(" ")[1]).toList();
        } finally {
            client.shutdownNow();
        }
    }

    /**
     * With nothing prepared before, starts {@code caller}'s XA commit of {@code item} (on {@code path}, by default
     * xa/commit) on {@code client} and waits until
     * {@code hold} caught its statement; returns the application's pending reply.
     */
    private Future<Reply> commitUntil(ExecutorService client, WireFailpoint.Hold hold, String caller, String item)
            throws Exception {
        return commitUntil(client, hold, "xa/commit", caller, item);
    }

    private Future<Reply> commitUntil(ExecutorService client, WireFailpoint.Hold hold, String path, String caller,
            String item) throws Exception {
        assertThat(IntegrationSuite.database().preparedTransactions()).as("left prepared before this scenario").isEmpty();
        Future<Reply> request = client.submit(() -> xa.post(path, caller, "item", item));
        hold.await(Duration.ofMinutes(2));
        return request;
    }

    /** Starts the killed server again and waits until its recovery left nothing prepared in the database. */
    private void restartAndAwaitRecovery() throws Exception {
        server.restartAfterCrash();
        awaitNothingPrepared();
    }

    /** Waits (asking the server for recovery passes) until nothing is left prepared in the database. */
    private void awaitNothingPrepared() throws Exception {
        ServerProcess.await("recovery by " + server.name() + " finishing every prepared branch", Duration.ofMinutes(4),
                IntegrationSuite.database().statementLog().getParent(), () -> {
                    try {
                        server.recoverNow();
                        return IntegrationSuite.database().preparedTransactions().isEmpty();
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                });
    }

    private void assertNoHeuristicOutcomeAndThePoolsServeAgain() throws Exception {
        assertThat(server.log()).as(server.name() + "'s log").doesNotContainIgnoringCase("heuristic");
        String item = "xa-after-recovery-" + UUID.randomUUID();
        Reply r = xa.post("xa/commit", "alice", "item", item).expect(200);
        assertThat(r.text("stock")).isEqualTo("alice");
        assertThat(r.text("ledger")).isEqualTo("alice");
        assertThat(IntegrationSuite.database().preparedTransactions()).isEmpty();
    }

    private static String statementLogSince(long mark) {
        try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(IntegrationSuite.database().statementLog().toFile(), "r")) {
            f.seek(mark);
            byte[] rest = new byte[(int) (f.length() - mark)];
            f.readFully(rest);
            return new String(rest, java.nio.charset.StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    @Order(40)
    void theReadinessCheckReportsThePool() throws Exception {
        java.net.http.HttpResponse<String> r = java.net.http.HttpClient.newHttpClient().send(
                java.net.http.HttpRequest.newBuilder(readiness()).build(), java.net.http.HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(readiness() + ": " + r.body()).isEqualTo(200);
        assertThat(r.body()).contains("proxyra pools").contains("the database answered");
    }

    /** Where the server serves MicroProfile Health's readiness. */
    protected URI readiness() {
        return server.root().resolve("health/ready");
    }

    /**
     * After every refusal above: the server took none of them for a broken connection, the pool said it started, and
     * the proxy password is nowhere in what the server wrote.
     */
    @Test
    @Order(50)
    void refusalsAreNotConnectionErrorsAndTheLogHasNoSecret() throws Exception {
        String log = server.log();
        for (String marker : server.connectionErrorMarkers()) {
            assertThat(log).as("server log of " + server.name()).doesNotContain(marker);
        }
        assertThat(log).contains("proxyra: pool erp started (JMX dev.proxyra:type=Pool,name=erp)");
        // ojdbc11's manifest names oraclepki.jar, which the rar ships: no server warns about a missing Class-Path entry
        // (WildFly WFLYSRV0059, Open Liberty SRVE9967W)
        assertThat(log).doesNotContain("WFLYSRV0059").doesNotContain("SRVE9967W");
        assertThat(log).doesNotContain(System.getenv("PROXYRA_PASSWORD"));
    }
}
