package dev.proxyra.it;

import dev.proxyra.it.support.DemoClient;
import dev.proxyra.it.support.DemoClient.Reply;
import dev.proxyra.it.support.DemoAppTest;
import dev.proxyra.it.support.IntegrationSuite;
import dev.proxyra.it.support.PayaraSetup;





import org.junit.jupiter.api.Test;

import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

import javax.xml.parsers.DocumentBuilderFactory;
import java.nio.file.Files;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Both ways to configure proxyra on Payara: a pool created with asadmin
 * ({@code create-connector-connection-pool --property URL=...:User=app_proxy}) and a
 * {@code @ConnectionFactoryDefinition} in the application. Neither holds the proxy password: it comes
 * from MicroProfile Config, i.e. the environment variables PROXYRA_PASSWORD and ANNOTATED_PASSWORD
 * (and, for the annotation, ANNOTATED_URL) that Payara Micro inherits.
 */
class ConfigurationIT extends DemoAppTest {


    @Test
    void asadminPoolWithoutPasswordPropertyGetsThePasswordFromMicroProfileConfig() throws Exception {
        // what asadmin stored: URL, User, UnauthenticatedAccess and PoolName, no Password
        List<String> properties = poolProperties(PayaraSetup.POOL_NAME);
        assertThat(properties).containsExactlyInAnyOrder("URL", "User", "UnauthenticatedAccess", "PoolName");

        // the database demands the password from app_proxy ...
        assertThatThrownBy(() -> DriverManager.getConnection(IntegrationSuite.database().url(), "app_proxy", "wrong"))
                .isInstanceOf(SQLException.class)
                .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("28P01"));
        // ... and proxyra's pool has it: from PROXYRA_PASSWORD
        Reply alice = demo.get("whoami", "alice").expect(200);
        assertThat(alice.text("databaseUser")).isEqualTo("alice");
        assertThat(alice.text("sessionUser")).isEqualTo("app_proxy");
    }

    @Test
    void connectionFactoryDefinitionGetsUrlAndPasswordFromMicroProfileConfig() throws Exception {
        String item = "annotated-" + java.util.UUID.randomUUID();
        demo.post("orders", "bob", "item", item).expect(200);
        Reply bob = demo.get("annotated/whoami", "bob").expect(200);
        assertThat(bob.text("caller")).isEqualTo("bob");
        assertThat(bob.text("databaseUser")).isEqualTo("bob");
        assertThat(bob.text("sessionUser")).isEqualTo("app_proxy");
        assertThat(bob.rows("item")).contains(item);
        assertThat(bob.rows("owner")).containsOnly("bob");

        Reply alice = demo.get("annotated/whoami", "alice").expect(200);
        assertThat(alice.text("databaseUser")).isEqualTo("alice");

        Reply carol = demo.get("annotated/whoami", "carol").expect(403);
        assertThat(carol.text("sqlState")).isEqualTo("28000");
    }

    @Test
    void theProxyPasswordAppearsInNoLogAndNoCommandFile() throws Exception {
        demo.get("whoami", "alice").expect(200);
        demo.get("annotated/whoami", "alice").expect(200);
        demo.get("whoami", "carol").expect(403);
        String password = System.getenv("PROXYRA_PASSWORD");
        assertThat(password).isNotBlank();
        PayaraSetup payara = IntegrationSuite.payara();
        assertThat(payara.log()).doesNotContain(password);
        assertThat(Files.readString(payara.postBootFile())).doesNotContain(password);
        assertThat(Files.readString(payara.rootDir().resolve("config/domain.xml"))).doesNotContain(password);
    }

    private static List<String> poolProperties(String pool) throws Exception {
        var factory = DocumentBuilderFactory.newInstance();
        var doc = factory.newDocumentBuilder().parse(IntegrationSuite.payara().rootDir().resolve("config/domain.xml").toFile());
        NodeList pools = doc.getElementsByTagName("connector-connection-pool");
        for (int i = 0; i < pools.getLength(); i++) {
            Element p = (Element) pools.item(i);
            if (pool.equals(p.getAttribute("name"))) {
                List<String> names = new ArrayList<>();
                NodeList props = p.getElementsByTagName("property");
                for (int j = 0; j < props.getLength(); j++) {
                    names.add(((Element) props.item(j)).getAttribute("name"));
                }
                return names;
            }
        }
        throw new AssertionError("no connector-connection-pool " + pool + " in domain.xml");
    }
}
