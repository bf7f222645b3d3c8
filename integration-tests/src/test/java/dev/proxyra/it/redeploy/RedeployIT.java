package dev.proxyra.it.redeploy;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.jboss.arquillian.container.test.api.Deployment;
import org.jboss.arquillian.junit5.ArquillianExtension;
import org.jboss.arquillian.test.api.ArquillianResource;
import org.jboss.shrinkwrap.api.ShrinkWrap;
import org.jboss.shrinkwrap.api.asset.StringAsset;
import org.jboss.shrinkwrap.api.exporter.ZipExporter;
import org.jboss.shrinkwrap.api.spec.JavaArchive;
import org.jboss.shrinkwrap.api.spec.ResourceAdapterArchive;
import org.jboss.shrinkwrap.api.spec.WebArchive;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import dev.proxyra.it.support.DemoClient;
import dev.proxyra.it.support.IntegrationSuite;
import dev.proxyra.it.support.LoadedClasses;
import dev.proxyra.it.support.PayaraSetup;

/**
 * Undeploy and redeploy proxyra.rar and the demo application in a loop inside one Payara Micro, with requests
 * in every cycle, then count the class loaders that still hold the adapter's or the application's classes
 * (jcmd VM.class_hierarchy after full collections, soft references cleared: -XX:SoftRefLRUPolicyMSPerMB=0).
 * None may be left. A control adapter that does nothing at all, deployed and undeployed the same way, shows
 * what the server itself keeps: nothing either.
 */
@ExtendWith(ArquillianExtension.class)
class RedeployIT {
    private static final int CYCLES = 4;
    private static final String ADAPTER_CLASS = "dev.proxyra.spi.ProxyraResourceAdapter";
    private static final String APPLICATION_CLASS = "dev.proxyra.demo.WhoAmIResource";
    private static final String CONTROL_CLASS = ControlAdapter.class.getName();

    @Deployment(testable = false)
    static WebArchive deployment() {
        return ShrinkWrap.create(WebArchive.class, "redeploy-admin.war").addClasses(AdminResource.class,
                AdminApplication.class);
    }

    @ArquillianResource
    URL admin;

    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @Test
    void undeployedCopiesOfTheAdapterAndTheApplicationLeaveNoClassLoaderBehind() throws Exception {
        Path rar = Path.of(System.getProperty("proxyra.rar"));
        Path war = Path.of(System.getProperty("proxyra.war"));
        // Payara's pool resizer keeps a cancelled task (and so the adapter's loader) until its next run, every
        // idle timeout (300 s by default): the pools of this suite use 1 s. The unused copy the post-boot
        // commands deployed goes first.
        List<String> deployRar = PayaraSetup.postBootCommands(rar, IntegrationSuite.database().url()).stream()
                .map(c -> c.replace(" --maxpoolsize ", " --idletimeout 1 --maxpoolsize ")).toList();
        undeployAll();
        DemoClient demo = new DemoClient(URI.create("http://127.0.0.1:" + admin.getPort() + "/demo/"));
        for (int cycle = 0; cycle < CYCLES; cycle++) {
            for (String command : deployRar) {
                asadmin(command.split(" "));
            }
            asadmin("deploy", "--name", "demo", "--contextroot", "demo", war.toString());
            assertThat(demo.get("whoami", "alice").expect(200).text("databaseUser")).isEqualTo("alice");
            assertThat(demo.get("whoami", "bob").expect(200).text("databaseUser")).isEqualTo("bob");
            demo.get("whoami", "carol").expect(403);
            demo.get("public/whoami", null).expect(403);
            demo.post("tx/commit", "alice", "item", "redeploy cycle " + cycle).expect(200);
            demo.get("jpa/orders", "bob").expect(200);
            assertThat(get("asadmin/mbeans").lines()).as("proxyra's MBeans while deployed")
                    .containsExactly("dev.proxyra:type=Pool,name=erp");
            asadmin("undeploy", "demo");
            undeployAll();
            assertThat(get("asadmin/mbeans")).as("proxyra's MBeans after the rar was undeployed").isEmpty();
        }
        Path control = controlRar();
        for (int cycle = 0; cycle < CYCLES; cycle++) {
            asadmin("deploy", "--name", "control", control.toString());
            asadmin("create-connector-connection-pool", "--raname", "control", "--connectiondefinition",
                    "javax.sql.DataSource", "--idletimeout", "1", "--property", "Name=control", "control-pool");
            asadmin("create-connector-resource", "--poolname", "control-pool", "control/cf");
            asadmin("delete-connector-resource", "control/cf");
            asadmin("delete-connector-connection-pool", "control-pool");
            asadmin("undeploy", "control");
        }
        long pid = Long.parseLong(get("asadmin/pid"));
        // A bounded wait for the server's own threads that end by themselves after an undeploy: Payara stops
        // adapters on pooled "RA Shutdown" threads that keep the last adapter's loader as their context loader
        // until they have idled for 60 s. Each round is paced by the full collections it asks for.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        String classes;
        long adapters;
        long applications;
        long controls;
        do {
            classes = LoadedClasses.afterFullCollections(pid);
            adapters = LoadedClasses.copies(classes, ADAPTER_CLASS);
            applications = LoadedClasses.copies(classes, APPLICATION_CLASS);
            controls = LoadedClasses.copies(classes, CONTROL_CLASS);
        } while (adapters + applications + controls > 0 && System.nanoTime() < deadline);
        System.out.println("[redeploy] after " + CYCLES + " undeploys each: class loaders left holding proxyra="
                + adapters + " demo.war=" + applications + " control adapter=" + controls);
        String evidence = "";
        if (adapters + applications + controls > 0) {
            // for whoever investigates: the heap of the server, to find what keeps the loaders reachable
            Path dump = Path.of(System.getProperty("it.work"), "redeploy-leak.hprof").toAbsolutePath();
            Path threads = dump.resolveSibling("redeploy-leak-threads.txt");
            LoadedClasses.heapDump(pid, dump);
            java.nio.file.Files.writeString(threads, LoadedClasses.jcmd(pid, "Thread.print"));
            evidence = " (heap dump: " + dump + ", threads: " + threads + ")";
        }
        assertThat(adapters).as("class loaders holding " + ADAPTER_CLASS + " after " + CYCLES + " undeploys, against "
                + controls + " of the control adapter" + evidence).isZero();
        assertThat(applications).as("class loaders holding " + APPLICATION_CLASS + " after " + CYCLES + " undeploys"
                + evidence).isZero();
        assertThat(controls).as("class loaders of the control adapter: what the server itself keeps" + evidence).isZero();
        assertThat(IntegrationSuite.database().proxySessions()).isZero();
    }

    private void undeployAll() throws IOException, InterruptedException {
        asadmin("delete-connector-resource", PayaraSetup.JNDI_NAME);
        asadmin("delete-connector-connection-pool", PayaraSetup.POOL_NAME);
        asadmin("undeploy", PayaraSetup.RAR_NAME);
    }

    /** The control adapter as a rar: a resource adapter and a connection definition that do nothing. */
    private static Path controlRar() {
        Path rar = Path.of(System.getProperty("it.work"), "control.rar").toAbsolutePath();
        ShrinkWrap.create(ResourceAdapterArchive.class, "control.rar")
                .addAsLibrary(ShrinkWrap.create(JavaArchive.class, "control.jar")
                        .addClasses(ControlAdapter.class, ControlConnectionFactory.class))
                .setResourceAdapterXML(new StringAsset("<connector xmlns=\"https://jakarta.ee/xml/ns/jakartaee\""
                        + " version=\"2.1\"><vendor-name>proxyra tests</vendor-name><eis-type>none</eis-type>"
                        + "<resourceadapter-version>1</resourceadapter-version><resourceadapter>"
                        + "<resourceadapter-class>" + ControlAdapter.class.getName() + "</resourceadapter-class>"
                        + "<outbound-resourceadapter><connection-definition><managedconnectionfactory-class>"
                        + ControlConnectionFactory.class.getName() + "</managedconnectionfactory-class>"
                        + "<config-property><config-property-name>Name</config-property-name>"
                        + "<config-property-type>java.lang.String</config-property-type></config-property>"
                        + "<connectionfactory-interface>javax.sql.DataSource</connectionfactory-interface>"
                        + "<connectionfactory-impl-class>javax.sql.DataSource</connectionfactory-impl-class>"
                        + "<connection-interface>java.sql.Connection</connection-interface>"
                        + "<connection-impl-class>java.sql.Connection</connection-impl-class>"
                        + "</connection-definition><transaction-support>NoTransaction</transaction-support>"
                        + "<reauthentication-support>false</reauthentication-support></outbound-resourceadapter>"
                        + "</resourceadapter></connector>"))
                .as(ZipExporter.class).exportTo(rar.toFile(), true);
        return rar;
    }

    private void asadmin(String... words) throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(base().resolve("asadmin"))
                .timeout(Duration.ofMinutes(3)).header("Content-Type", "text/plain")
                .POST(HttpRequest.BodyPublishers.ofString(String.join("\n", words))).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(String.join(" ", words) + ": " + r.body()).isEqualTo(200);
    }

    private String get(String path) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(base().resolve(path)).build(), HttpResponse.BodyHandlers.ofString())
                .body().trim();
    }

    private URI base() {
        return URI.create("http://127.0.0.1:" + admin.getPort() + "/redeploy-admin/");
    }
}
