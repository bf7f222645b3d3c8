package dev.proxyra.it;

import dev.proxyra.it.support.DemoClient;
import dev.proxyra.it.support.DemoClient.Reply;
import dev.proxyra.it.support.DemoAppTest;
import dev.proxyra.it.support.IntegrationSuite;




import dev.proxyra.it.support.PayaraSetup;

import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;



import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Who the database sees, over HTTP as a client would: the signed-in caller (SET ROLE on a session that
 * logged in as app_proxy), never another caller, never the proxy account.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class IdentityIT extends DemoAppTest {


    @Test
    @Order(1)
    void aliceAndBobRunAsThemselvesAndSeeOnlyTheirRows() throws Exception {
        String aliceItem = "alice-" + UUID.randomUUID();
        String bobItem = "bob-" + UUID.randomUUID();
        assertThat(demo.post("orders", "alice", "item", aliceItem).expect(200).text("owner")).isEqualTo("alice");
        assertThat(demo.post("orders", "bob", "item", bobItem).expect(200).text("owner")).isEqualTo("bob");

        Reply alice = demo.get("whoami", "alice").expect(200);
        assertThat(alice.text("caller")).isEqualTo("alice");
        assertThat(alice.text("databaseUser")).isEqualTo("alice");
        assertThat(alice.text("sessionUser")).isEqualTo("app_proxy");
        assertThat(alice.rows("item")).contains(aliceItem).doesNotContain(bobItem);
        assertThat(alice.rows("owner")).containsOnly("alice");

        Reply bob = demo.get("whoami", "bob").expect(200);
        assertThat(bob.text("caller")).isEqualTo("bob");
        assertThat(bob.text("databaseUser")).isEqualTo("bob");
        assertThat(bob.text("sessionUser")).isEqualTo("app_proxy");
        assertThat(bob.rows("item")).contains(bobItem).doesNotContain(aliceItem);
        assertThat(bob.rows("owner")).containsOnly("bob");

        // the rows really are owned by the callers, as the database (not the application) recorded it
        assertThat(IntegrationSuite.database().ownerOfItem(aliceItem)).isEqualTo("alice");
        assertThat(IntegrationSuite.database().ownerOfItem(bobItem)).isEqualTo("bob");
    }

    @Test
    @Order(5)
    void eightConcurrentClientsNeverSeeAnotherIdentity() throws Exception {
        demo.post("orders", "alice", "item", "alice-concurrent-" + UUID.randomUUID()).expect(200);
        demo.post("orders", "bob", "item", "bob-concurrent-" + UUID.randomUUID()).expect(200);
        List<String> users = List.of("alice", "bob", "carol");
        int clients = 8;
        int requests = 200;
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        try {
            List<Future<List<String>>> results = new ArrayList<>();
            for (int c = 0; c < clients; c++) {
                int client = c;
                Callable<List<String>> run = () -> {
                    List<String> wrong = new ArrayList<>();
                    for (int i = 0; i < requests; i++) {
                        String user = users.get((client + i) % users.size());
                        Reply r = demo.get("whoami", user);
                        if (user.equals("carol")) {
                            if (r.status() != 403 || !"28000".equals(r.text("sqlState"))) {
                                wrong.add("carol was not refused: " + r);
                            }
                        } else if (r.status() != 200 || !user.equals(r.text("databaseUser"))
                                || !user.equals(r.text("caller")) || !"app_proxy".equals(r.text("sessionUser"))
                                || r.rows("owner").isEmpty() || !r.rows("owner").stream().allMatch(user::equals)) {
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

    @Test
    @Order(2)
    void carolHasNoDatabaseRoleAndIsRefusedWithTheAdaptersReason() throws Exception {
        Reply carol = demo.get("whoami", "carol").expect(403);
        assertThat(carol.text("sqlState")).isEqualTo("28000");
        assertThat(carol.text("message")).startsWith("proxyra:").contains("carol");
        assertThat(IntegrationSuite.payara().log())
                .containsPattern("caller carol failed with SQLState 28000: proxyra:[^\\n]*carol");
    }

    @Test
    @Order(3)
    void anAnonymousCallerIsRefusedWithTheAdaptersReason() throws Exception {
        Reply anonymous = demo.get("public/whoami", null).expect(403);
        assertThat(anonymous.text("sqlState")).isEqualTo("28000");
        assertThat(anonymous.text("message")).startsWith("proxyra:");
        assertThat(IntegrationSuite.payara().log())
                .containsPattern("caller \\(anonymous\\) failed with SQLState 28000: proxyra:");
        // and the protected pages ask for credentials before any database work
        assertThat(demo.get("whoami", null).status()).isEqualTo(401);
    }

    /**
     * A refused caller must give back what the server lent for the attempt: more refusals than the
     * server's pool has managed connections, then the pool still serves alice.
     */
    @Test
    @Order(4)
    void refusedCallersDoNotUseUpTheServersPool() throws Exception {
        for (int i = 0; i < PayaraSetup.MAX_POOL_SIZE + 4; i++) {
            Reply carol = demo.get("whoami", "carol");
            assertThat(carol.status()).as("refusal %d: %s", i + 1, carol).isEqualTo(403);
            assertThat(carol.text("sqlState")).as("refusal %d: %s", i + 1, carol).isEqualTo("28000");
        }
        Reply alice = demo.get("whoami", "alice").expect(200);
        assertThat(alice.text("databaseUser")).isEqualTo("alice");
    }
}
