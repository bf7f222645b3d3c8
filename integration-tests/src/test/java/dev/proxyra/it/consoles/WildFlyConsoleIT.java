package dev.proxyra.it.consoles;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.openqa.selenium.By;
import org.openqa.selenium.Keys;
import org.openqa.selenium.UsernameAndPassword;
import org.openqa.selenium.WebElement;

import dev.proxyra.it.servers.ServerEnvironment;
import dev.proxyra.it.servers.ServerProcess;
import dev.proxyra.it.servers.WildFlyServer;
import dev.proxyra.it.support.DemoClient;

/**
 * WildFly's management console (HAL), in Chromium, as an administrator uses it: Deployments > Upload the rar,
 * Configuration > Subsystems > Resource Adapters > Add, its transaction support, a connection definition with its
 * JNDI name and properties, the reload the console asks for. Then a servlet signed in by WildFly runs as its caller
 * through the pool made that way. The screenshots of each step are the WildFly guide's.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class WildFlyConsoleIT {
    private static final String RA = "proxyra.rar";
    private static final String FORM_CD = "resource-adapter-connection-definition-attributes-form";
    private ServerEnvironment env;
    private WildFlyServer server;

    @BeforeAll
    void start() throws Exception {
        Browser.assumeInstalled();
        env = ServerEnvironment.forServer("wildfly-console");
        server = new WildFlyServer(env);
        try {
            server.startBare();
        } catch (Exception | Error e) {
            server.close();
            throw e;
        }
    }

    @AfterAll
    void stop() throws Exception {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void anAdministratorConfiguresTheAdapterInTheConsoleAndCallersRunAsThemselves() throws Exception {
        Path shots = Path.of(System.getProperty("it.work"), "screenshots", "wildfly");
        // the management API asks for DIGEST credentials: the browser answers for the administrator
        try (Browser browser = new Browser(shots, new UsernameAndPassword("admin", WildFlyServer.ADMIN_PASSWORD))) {
            try {
                configure(browser, server.management().resolve("console/index.html").toString());
            } catch (RuntimeException | Error e) {
                browser.saveFailure();
                throw e;
            }
        }
        String definition = server.cli("/subsystem=resource-adapters/resource-adapter=proxyra.rar:read-resource(recursive=true)");
        assertThat(definition).contains("\"transaction-support\" => \"LocalTransaction\"")
                .contains("\"jndi-name\" => \"java:/jdbc/erp\"").contains("\"value\" => \"" + env.jdbcUrl() + "\"");

        server.cli("deploy " + env.plainWar());
        ServerProcess.awaitAnswering(server.plain().resolve("public/whoami"), Duration.ofMinutes(2));
        DemoClient plain = new DemoClient(server.plain());
        assertThat(plain.get("whoami", "alice").expect(200).text("databaseUser")).isEqualTo("alice");
        assertThat(plain.get("whoami", "bob").expect(200).text("databaseUser")).isEqualTo("bob");
        assertThat(plain.get("whoami", "carol").expect(403).text("sqlState")).isEqualTo("28000");
    }

    private void configure(Browser b, String console) throws Exception {
        // Deployments > Add > Upload Deployment
        b.driver.get(console + "#deployments");
        b.visible(By.id("deployment"));
        b.shot("deployments");
        b.click(By.id("deployment-add-actions"));
        b.click(By.id("deployment-upload"));
        b.visible(By.id("hal-wizard"));
        b.present(By.id("upload-file-input")).sendKeys(env.rar().toString());
        b.until(d -> d.findElement(By.cssSelector("ul.upload-file-list")).getText().contains(RA));
        b.shot("upload");
        By primary = By.cssSelector("#hal-wizard .modal-footer .btn-primary");
        b.click(primary); // Next
        b.visible(By.id("upload-names-form"));
        b.click(primary); // Finish
        b.visible(By.cssSelector("#hal-wizard .wizard-pf-complete .wizard-pf-success-icon"));
        b.shot("uploaded");
        b.click(primary); // Close

        // Configuration > Subsystems > Resource Adapters > Add
        b.driver.get(console + "#configuration;path=configuration~subsystems!css~resource-adapters");
        b.visible(By.id("resource-adapter"));
        b.click(By.id("resource-adapter-add"));
        b.visible(By.id("hal-modal"));
        for (int pass = 0; pass < 2; pass++) { // see the connection definition's dialog below
            b.type(By.id("resource-adapter-form-name-editing"), RA);
            b.type(By.id("resource-adapter-form-archive-editing"), RA);
        }
        b.shot("resource-adapter");
        b.click(By.cssSelector("#hal-modal .modal-footer .btn-primary"));
        success(b, "Resource Adapter " + RA + " successfully added");

        // the adapter's transaction support (not in the Add dialog)
        b.driver.get(console + "#resource-adapter;name=" + RA);
        String form = "resource-adapter-configuration-attributes-form";
        b.click(By.cssSelector("#" + form + " a[data-operation=edit]"));
        String group = "div[data-form-item-group=" + form + "-transaction-support-editing]";
        b.click(By.cssSelector(group + " button.dropdown-toggle"));
        b.click(By.xpath("//div[@data-form-item-group='" + form + "-transaction-support-editing']"
                + "//div[contains(@class,'dropdown-menu')]//span[normalize-space(text())='LocalTransaction']"));
        b.shot("transaction-support");
        b.click(By.cssSelector("#" + form + " .form-buttons .btn-primary"));
        success(b, "Resource Adapter " + RA + " successfully modified");

        // Connection Definitions > Add: name, class, JNDI name
        b.click(By.cssSelector("#resource-adapter-connection-definition-item > a"));
        b.visible(By.cssSelector("[data-vn-item-for=resource-adapter-connection-definition-item]"));
        b.click(By.xpath("//div[contains(@class,'hal-table-buttons')]"
                + "/button[@aria-controls='resource-adapter-connection-definition-table'][normalize-space()='Add']"));
        b.visible(By.id("hal-modal"));
        String dialog = "resource-adapter-connection-definition-add";
        Map<String, String> fields = new LinkedHashMap<>();
        fields.put(dialog + "-name-editing", "erp");
        fields.put(dialog + "-class-name-editing", "dev.proxyra.spi.ProxyraManagedConnectionFactory");
        fields.put(dialog + "-jndi-name-editing", "java:/jdbc/erp");
        // twice: keys sent while the dialog moved the focus land in another field, which the second pass corrects
        for (int pass = 0; pass < 2; pass++) {
            fields.forEach((id, value) -> b.type(By.id(id), value));
        }
        b.shot("connection-definition");
        b.click(By.cssSelector("#hal-modal .modal-footer .btn-primary"));
        success(b, "Connection Definition erp successfully added");

        // its properties: the pool's configuration
        b.click(By.xpath("//*[@id='resource-adapter-connection-definition-table']//td[normalize-space(text())='erp']"));
        b.click(By.cssSelector("#" + FORM_CD + " a[data-operation=edit]"));
        String tags = "div[data-form-item-group=" + FORM_CD + "-config-properties-editing]";
        WebElement input = b.visible(By.cssSelector(tags + " input[type=text].tags"));
        for (String property : List.of("URL=" + env.jdbcUrl(), "User=app_proxy", "UnauthenticatedAccess=METADATA_ONLY",
                "PoolName=erp")) {
            input.sendKeys(property);
            input.sendKeys(Keys.RETURN);
            b.until(d -> d.findElement(By.cssSelector(tags)).getText().contains(property));
        }
        b.shot("properties");
        b.click(By.cssSelector("#" + FORM_CD + " .form-buttons .btn-primary"));
        success(b, "Connection Definition erp successfully modified");

        // the changed transaction support needs a reload, which the console offers in its header
        b.driver.navigate().refresh();
        b.click(By.id("reload-link"));
        b.visible(By.id("hal-modal"));
        b.shot("reload");
        int starts = server.starts();
        b.click(By.cssSelector("#hal-modal .modal-footer .btn-primary"));
        // the server's own word that the reload ran (its "started" line again) and that none is pending any more; the
        // console's "successfully reloaded" toast goes away after a few seconds, which a busy machine can miss
        server.awaitStarts(starts + 1);
        assertThat(server.cli(":read-attribute(name=server-state)")).contains("\"result\" => \"running\"");
        b.shot("reloaded");
    }

    private static By successToast(String text) {
        return By.xpath("//*[contains(@class,'toast-notifications-list-pf')]//*[contains(@class,'alert-success')]"
                + "[contains(normalize-space(.),'" + text + "')]");
    }

    /** Waits for the console's success toast, fails on its error toast, then dismisses the toasts. */
    private static void success(Browser b, String text) {
        b.until(d -> {
            if (!d.findElements(By.cssSelector(".toast-notifications-list-pf .alert-danger")).isEmpty()) {
                throw new AssertionError("the console reported an error: "
                        + d.findElement(By.cssSelector(".toast-notifications-list-pf .alert-danger")).getText());
            }
            return !d.findElements(successToast(text)).isEmpty();
        });
        for (WebElement close : b.driver.findElements(By.cssSelector(".toast-notifications-list-pf button.close"))) {
            if (close.isDisplayed()) {
                close.click();
            }
        }
    }
}
