package dev.proxyra.it;

import dev.proxyra.it.support.DemoClient;
import dev.proxyra.it.support.DemoClient.Reply;
import dev.proxyra.it.support.DemoAppTest;
import dev.proxyra.it.support.IntegrationSuite;





import org.junit.jupiter.api.Test;



import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/** JTA over proxyra: the server enlists the adapter's LocalTransaction on the caller's session. */
class TransactionIT extends DemoAppTest {


    @Test
    void userTransactionCommitPersistsAsTheCaller() throws Exception {
        String item = "tx-commit-" + UUID.randomUUID();
        Reply r = demo.post("tx/commit", "alice", "item", item).expect(200);
        assertThat(r.json().getJsonObject("committed").getString("owner")).isEqualTo("alice");
        assertThat(demo.get("orders", "alice").expect(200).rows("item")).contains(item);
        assertThat(demo.get("orders", "bob").expect(200).rows("item")).doesNotContain(item);
        assertThat(IntegrationSuite.database().ownerOfItem(item)).isEqualTo("alice");
    }

    @Test
    void userTransactionRollbackLeavesNothing() throws Exception {
        String item = "tx-rollback-" + UUID.randomUUID();
        Reply r = demo.post("tx/rollback", "bob", "item", item).expect(200);
        // the insert ran (as bob) inside the transaction ...
        assertThat(r.json().getJsonObject("rolledBack").getString("owner")).isEqualTo("bob");
        // ... and is gone: not for bob, and not in the table at all
        assertThat(demo.get("orders", "bob").expect(200).rows("item")).doesNotContain(item);
        assertThat(IntegrationSuite.database().ownerOfItem(item)).isNull();
    }

    @Test
    void transactionalBeanThatThrowsRollsBack() throws Exception {
        String item = "tx-transactional-" + UUID.randomUUID();
        Reply r = demo.post("tx/transactional-failure", "alice", "item", item).expect(409);
        assertThat(r.text("rolledBack")).isEqualTo(item);
        assertThat(demo.get("orders", "alice").expect(200).rows("item")).doesNotContain(item);
        assertThat(IntegrationSuite.database().ownerOfItem(item)).isNull();
    }

    @Test
    void getConnectionTwiceInOneTransactionUsesTheSameDatabaseSession() throws Exception {
        for (String user : new String[] {"alice", "bob"}) {
            Reply r = demo.get("tx/session", user).expect(200);
            int first = r.json().getInt("first");
            assertThat(first).isPositive();
            assertThat(r.json().getInt("second")).as("second getConnection() in the transaction").isEqualTo(first);
            assertThat(r.json().getInt("nestedOuter")).as("outer of two open connections").isEqualTo(first);
            assertThat(r.json().getInt("nestedInner")).as("inner of two open connections").isEqualTo(first);
            assertThat(r.text("databaseUser")).isEqualTo(user);
        }
    }
}
