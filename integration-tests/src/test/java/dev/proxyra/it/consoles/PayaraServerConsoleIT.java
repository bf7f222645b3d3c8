package dev.proxyra.it.consoles;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.openqa.selenium.By;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.Select;

import dev.proxyra.it.servers.PayaraServerDomain;
import dev.proxyra.it.servers.ServerEnvironment;
import dev.proxyra.it.support.DemoClient;

/**
 * Payara Server's admin console, in Chromium, as an administrator uses it: Applications > Deploy the rar, Resources >
 * Connectors > Connector Connection Pools > New (two steps), Connector Resources > New. Then a request of the demo
 * runs as its caller through the pool made that way. The screenshots of each step are the Payara Server guide's.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PayaraServerConsoleIT {
    private ServerEnvironment env;
    private PayaraServerDomain server;

    @BeforeAll
    void start() throws Exception {
        Browser.assumeInstalled();
        env = ServerEnvironment.forServer("payara-server-console");
        server = new PayaraServerDomain(env);
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
    void anAdministratorCreatesThePoolInTheConsoleAndCallersRunAsThemselves() throws Exception {
        Path shots = Path.of(System.getProperty("it.work"), "screenshots", "payara-server");
        List<String> listed;
        try (Browser browser = new Browser(shots)) {
            try {
                listed = configure(browser, server.console().toString().replaceAll("/$", ""));
            } catch (RuntimeException | Error e) {
                browser.saveFailure();
                throw e;
            }
        }
        // the wizard listed every property of ra.xml; the pool keeps only what was filled in
        assertThat(listed).contains("URL", "User", "Password", "UnauthenticatedAccess", "PoolName");
        String stored = server.asadmin("get", "resources.connector-connection-pool.erp-pool.property.*");
        assertThat(stored).contains("property.URL=" + env.jdbcUrl()).contains("property.User=app_proxy")
                .contains("property.UnauthenticatedAccess=METADATA_ONLY").contains("property.PoolName=erp")
                .doesNotContain("property.Password");

        server.asadmin("deploy", env.demoWar().toString());
        URI demo = server.demo();
        dev.proxyra.it.servers.ServerProcess.awaitAnswering(demo.resolve("public/whoami"), Duration.ofMinutes(3));
        DemoClient client = new DemoClient(demo);
        assertThat(client.get("whoami", "alice").expect(200).text("databaseUser")).isEqualTo("alice");
        assertThat(client.get("whoami", "bob").expect(200).text("databaseUser")).isEqualTo("bob");
        assertThat(client.get("whoami", "carol").expect(403).text("sqlState")).isEqualTo("28000");
    }

    /** The console steps; returns the property names the pool wizard listed. */
    private List<String> configure(Browser b, String console) throws Exception {
        // the first request after a start answers 202 ("console is starting") and reloads itself
        b.driver.get(console + "/");
        new org.openqa.selenium.support.ui.WebDriverWait(b.driver, Duration.ofMinutes(5))
                .until(d -> !d.findElements(By.id("treeForm")).isEmpty());
        b.shot("console");

        // Applications > Deploy: the form is in an iframe inside the console's content area
        b.click(By.id("treeForm:tree:applications:applications_link"));
        b.click(By.id("propertyForm:deployTable:topActionsGroup1:deployButton"));
        b.until(ExpectedConditions.frameToBeAvailableAndSwitchToIt(By.cssSelector("iframe[src*='uploadFrame.jsf']")));
        b.present(By.id("form:sheet1:section1:prop1:fileupload")).sendKeys(env.rar().toString());
        WebElement name = b.visible(By.id("form:rar:psection:nameProp:appName")); // a .rar selects "Connector Module"
        name.clear();
        name.sendKeys("proxyra");
        b.shot("deploy-rar");
        b.click(By.id("form:title:topButtons:uploadButton"));
        b.driver.switchTo().defaultContent();
        b.present(By.xpath("//table[contains(@id,'deployTable')]//a[normalize-space()='proxyra']"));
        b.shot("deployed");

        // Resources > Connectors > Connector Connection Pools > New, step 1 (the page the tree's New leads to)
        b.driver.get(console + "/jca/connectorConnectionPoolNew1.jsf");
        b.type(By.id("propertyForm:propertySheet:generalPropertySheet:jndiProp:name"), "erp-pool");
        WebElement adapter = b.visible(By.id("propertyForm:propertySheet:generalPropertySheet:resAdapterProp:db"));
        new Select(adapter).selectByVisibleText("proxyra"); // submits the form: the page is rendered again
        b.until(ExpectedConditions.stalenessOf(adapter));
        By definition = By.id("propertyForm:propertySheet:generalPropertySheet:connectionDefProp:db");
        b.until(d -> new Select(d.findElement(definition)).getOptions().stream()
                .anyMatch(o -> o.getText().equals("javax.sql.DataSource")));
        new Select(b.driver.findElement(definition)).selectByVisibleText("javax.sql.DataSource");
        b.shot("pool-step-1");
        b.click(By.id("propertyForm:title:topButtons:nextButton"));

        // step 2: transaction support and the adapter's properties
        b.present(By.id("propertyForm:propertyContentPage:topButtons:finishButton"));
        new Select(b.visible(By.id("propertyForm:propertySheet:poolPropertySheet:transprop:trans")))
                .selectByVisibleText("LocalTransaction");
        Map<String, String> values = new LinkedHashMap<>();
        values.put("URL", env.jdbcUrl());
        values.put("User", "app_proxy");
        values.put("UnauthenticatedAccess", "METADATA_ONLY");
        values.put("PoolName", "erp");
        List<String> listed = new ArrayList<>();
        for (WebElement row : b.driver.findElements(
                By.cssSelector("input[id^='propertyForm:basicTable:rowGroup1:'][id$=':col2:col1St']"))) {
            String property = row.getAttribute("value");
            listed.add(property);
            String value = values.remove(property);
            if (value != null) {
                WebElement field = b.driver.findElement(By.id(row.getAttribute("id").replace(":col2:col1St", ":col3:col1St")));
                field.clear();
                field.sendKeys(value);
            }
        }
        assertThat(values).as("properties the wizard did not list").isEmpty();
        b.shot("pool-step-2");
        b.click(By.id("propertyForm:propertyContentPage:topButtons:finishButton"));
        b.until(d -> d.getTitle().startsWith("Connector Connection Pools")
                && !d.findElements(By.xpath("//table[contains(@id,'poolTable')]//a[normalize-space()='erp-pool']")).isEmpty());
        b.shot("pools");

        // Resources > Connectors > Connector Resources > New
        b.driver.get(console + "/jca/connectorResourceNew.jsf");
        b.type(By.id("form:propertySheet:propertSectionTextField:jndiTextProp:jnditext"), "jdbc/erp");
        new Select(b.visible(By.id("form:propertySheet:propertSectionTextField:poolNameProp:PoolName")))
                .selectByVisibleText("erp-pool");
        b.shot("resource");
        b.click(By.id("form:propertyContentPage:topButtons:newButton"));
        b.until(d -> d.getTitle().startsWith("Connector Resources")
                && !d.findElements(By.xpath("//table[contains(@id,'resourcesTable')]//a[normalize-space()='jdbc/erp']")).isEmpty());
        b.shot("resources");
        return listed;
    }
}
