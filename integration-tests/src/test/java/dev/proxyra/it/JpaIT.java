package dev.proxyra.it;

import dev.proxyra.it.support.DemoClient;
import dev.proxyra.it.support.DemoClient.Reply;
import dev.proxyra.it.support.DemoAppTest;
import dev.proxyra.it.support.IntegrationSuite;
import jakarta.json.JsonObject;

import org.junit.jupiter.api.Test;

import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/** JPA over proxyra: a persistence unit whose jta-data-source is the adapter's resource. */
class JpaIT extends DemoAppTest {

    @Test
    void entitiesWrittenByAliceCarryAliceAsOwnerAndBobCannotReadThem() throws Exception {
        String item = "jpa-" + UUID.randomUUID();
        String id = demo.post("jpa/orders", "alice", "item", item).expect(200).text("id");

        // the database stamped the row with the caller's identity
        assertThat(IntegrationSuite.database().ownerOfItem(item)).isEqualTo("alice");

        Reply alice = demo.get("jpa/orders", "alice").expect(200);
        JsonObject mine = alice.json().getJsonArray("rows").getValuesAs(JsonObject.class).stream()
                .filter(o -> o.getString("item").equals(item)).findFirst().orElseThrow();
        assertThat(mine.getString("owner")).isEqualTo("alice");
        assertThat(alice.rows("owner")).containsOnly("alice");
        assertThat(demo.get("jpa/orders/" + id, "alice").expect(200).text("owner")).isEqualTo("alice");

        // bob: not in his query results, and not even by primary key
        Reply bob = demo.get("jpa/orders", "bob").expect(200);
        assertThat(bob.rows("item")).doesNotContain(item);
        demo.get("jpa/orders/" + id, "bob").expect(404);
    }

    @Test
    void jpaWritesOfBobStayBobs() throws Exception {
        String item = "jpa-bob-" + UUID.randomUUID();
        demo.post("jpa/orders", "bob", "item", item).expect(200);
        assertThat(IntegrationSuite.database().ownerOfItem(item)).isEqualTo("bob");
        assertThat(demo.get("jpa/orders", "bob").expect(200).rows("item")).contains(item);
        assertThat(demo.get("jpa/orders", "alice").expect(200).rows("item")).doesNotContain(item);
    }

    @Test
    void carolGetsNoJpaAccess() throws Exception {
        Reply carol = demo.post("jpa/orders", "carol", "item", "jpa-carol-" + UUID.randomUUID());
        assertThat(carol.status()).isEqualTo(403);
        assertThat(carol.text("sqlState")).isEqualTo("28000");
    }

    /**
     * The pool lets the provider log in without a caller at deploy time (UnauthenticatedAccess=METADATA_ONLY). The
     * attack: an anonymous request through the same persistence unit. Its query is refused before it reaches the
     * database.
     */
    @Test
    void anAnonymousJpaQueryIsRefused() throws Exception {
        Reply anonymous = demo.get("public/jpa/orders", null);
        assertThat(anonymous.status()).isEqualTo(403);
        assertThat(anonymous.text("sqlState")).isEqualTo("28000");
        assertThat(anonymous.text("message")).contains("UnauthenticatedAccess=METADATA_ONLY");
    }
}
