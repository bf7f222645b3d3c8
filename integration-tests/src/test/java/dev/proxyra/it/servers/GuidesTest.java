package dev.proxyra.it.servers;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;

/**
 * Every configuration command a server guide shows is one a server suite runs: the guides must contain, verbatim, what
 * the suites' server classes generate, with the guides' placeholder path and URL.
 */
class GuidesTest {
    static final String RAR = "/path/to/proxyra.rar";
    static final String URL = "jdbc:postgresql://db.example.com:5432/erp";
    /** The guides' XA pools: one per database of the XA scenarios, on the same placeholder server. */
    static String xaUrl(String database) {
        return "jdbc:postgresql://db.example.com:5432/" + database;
    }

    private static String guide(String name) throws IOException {
        return Files.readString(Path.of("..", "docs", "servers", name), StandardCharsets.UTF_8);
    }

    private static void containsBlock(String name, String block) throws IOException {
        assertThat(guide(name)).as("docs/servers/" + name + " must show, as a code block, exactly:%n%s", block)
                .contains("```\n" + block + "```");
    }

    @Test
    void theOpenLibertyGuideShowsWhatOpenLibertyItRuns() throws IOException {
        containsBlock("open-liberty.md", OpenLibertyServer.features());
        containsBlock("open-liberty.md", OpenLibertyServer.proxyraXml(URL));
        containsBlock("open-liberty.md", XaPools.libertyXml(GuidesTest::xaUrl));
    }

    @Test
    void thePayaraServerGuideShowsWhatPayaraServerItRuns() throws IOException {
        StringBuilder setup = new StringBuilder();
        for (String command : PayaraServerDomain.asadminCommands(RAR, URL)) {
            setup.append("asadmin ").append(command).append('\n');
        }
        containsBlock("payara-server.md", setup.toString());
        StringBuilder loopback = new StringBuilder();
        for (String command : PayaraServerDomain.loopbackCommands()) {
            loopback.append("asadmin ").append(command).append('\n');
        }
        containsBlock("payara-server.md", loopback.toString());
        StringBuilder xa = new StringBuilder();
        for (String command : XaPools.payaraCommands(GuidesTest::xaUrl)) {
            xa.append("asadmin ").append(command).append('\n');
        }
        containsBlock("payara-server.md", xa.toString());
    }

    @Test
    void thePayaraMicroGuideShowsWhatPayaraMicroItRuns() throws IOException {
        containsBlock("payara-micro.md",
                String.join("\n", dev.proxyra.it.support.PayaraSetup.postBootCommands(Path.of(RAR), URL)) + "\n");
        containsBlock("payara-micro.md", String.join("\n", XaPools.payaraCommands(GuidesTest::xaUrl)) + "\n");
    }

    @Test
    void theWildFlyGuideShowsWhatWildFlyItRuns() throws IOException {
        containsBlock("wildfly.md", WildFlyServer.proxyraCli(RAR, URL));
        containsBlock("wildfly.md", WildFlyServer.serverCli());
        containsBlock("wildfly.md", WildFlyServer.undeployCli());
        containsBlock("wildfly.md", XaPools.wildflyCli(GuidesTest::xaUrl));
        containsBlock("wildfly.md", XaPools.wildflyUndeployCli());
    }
}
