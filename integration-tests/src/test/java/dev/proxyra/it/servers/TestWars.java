package dev.proxyra.it.servers;

import java.nio.file.Files;
import java.nio.file.Path;

import org.jboss.shrinkwrap.api.ShrinkWrap;
import org.jboss.shrinkwrap.api.asset.StringAsset;
import org.jboss.shrinkwrap.api.exporter.ZipExporter;
import org.jboss.shrinkwrap.api.spec.WebArchive;

import dev.proxyra.it.servers.apps.DatabaseIdentity;
import dev.proxyra.it.servers.apps.EjbServlet;
import dev.proxyra.it.servers.apps.PlainWhoAmIServlet;
import dev.proxyra.it.servers.apps.RunAsDelegator;
import dev.proxyra.it.servers.apps.WhoAmIBean;
import dev.proxyra.it.servers.apps.XaServlet;

/**
 * The applications the server suites deploy beside demo.war, signed in by the server itself (web.xml BASIC against the
 * server's user registry, users alice, bob and carol) rather than by Jakarta Security:
 * <ul>
 * <li>plain.war: a servlet; no CDI ({@code bean-discovery-mode="none"}), no Jakarta Security.</li>
 * <li>ejb.war: an EJB, a ManagedExecutorService task and an EJB with {@code @RunAs("auditor")}, whose run-as principal
 * is bob on every server (each server's own descriptor says so).</li>
 * </ul>
 * Both name proxyra's DataSource by their resource-ref {@code jdbc/erp}; jboss-web.xml maps it for WildFly, the other
 * servers bind it to the resource of the same name.
 */
public final class TestWars {
    /** The server-side users of plain.war and ejb.war, with the passwords each server registry is given. */
    public static final String[][] USERS = {{"alice", "wonderland"}, {"bob", "builder"}, {"carol", "singer"}};
    /** The run-as principal of the role auditor. */
    public static final String RUN_AS = "bob";

    private TestWars() {
    }

    private static final String RESOURCE_REF = """
              <resource-ref>
                <res-ref-name>jdbc/erp</res-ref-name>
                <res-type>javax.sql.DataSource</res-type>
                <res-auth>Container</res-auth>
                <res-sharing-scope>Shareable</res-sharing-scope>
              </resource-ref>
            """;

    private static final String JBOSS_WEB = """
            <?xml version="1.0" encoding="UTF-8"?>
            <jboss-web xmlns="urn:jboss:jakartaee:1.0" version="15.0">
              <resource-ref>
                <res-ref-name>jdbc/erp</res-ref-name>
                <jndi-name>java:/jdbc/erp</jndi-name>
              </resource-ref>
            </jboss-web>
            """;

    private static final String NO_CDI = """
            <?xml version="1.0" encoding="UTF-8"?>
            <beans xmlns="https://jakarta.ee/xml/ns/jakartaee" version="4.0" bean-discovery-mode="none"/>
            """;

    static String webXml(String protectedPattern, String extra) {
        return """
                <?xml version="1.0" encoding="UTF-8"?>
                <web-app xmlns="https://jakarta.ee/xml/ns/jakartaee" version="6.0">
                  <security-constraint>
                    <web-resource-collection>
                      <web-resource-name>signed-in</web-resource-name>
                      <url-pattern>%s</url-pattern>
                    </web-resource-collection>
                    <auth-constraint><role-name>**</role-name></auth-constraint>
                  </security-constraint>
                  <login-config><auth-method>BASIC</auth-method></login-config>
                %s%s</web-app>
                """.formatted(protectedPattern, RESOURCE_REF, extra);
    }

    public static Path plainWar(Path dir) throws Exception {
        WebArchive war = ShrinkWrap.create(WebArchive.class, "plain.war")
                .addClasses(PlainWhoAmIServlet.class, DatabaseIdentity.class)
                .setWebXML(new StringAsset(webXml("/whoami", "")))
                .addAsWebInfResource(new StringAsset(NO_CDI), "beans.xml")
                .addAsWebInfResource(new StringAsset(JBOSS_WEB), "jboss-web.xml");
        return export(war, dir);
    }

    public static Path ejbWar(Path dir) throws Exception {
        String runAsRole = "  <security-role><role-name>auditor</role-name></security-role>\n";
        WebArchive war = ShrinkWrap.create(WebArchive.class, "ejb.war")
                .addClasses(EjbServlet.class, WhoAmIBean.class, RunAsDelegator.class, DatabaseIdentity.class)
                .setWebXML(new StringAsset(webXml("/*", runAsRole)))
                .addAsWebInfResource(new StringAsset(NO_CDI), "beans.xml")
                .addAsWebInfResource(new StringAsset(JBOSS_WEB), "jboss-web.xml")
                // WildFly: the run-as principal of the bean
                .addAsWebInfResource(new StringAsset("""
                        <?xml version="1.0" encoding="UTF-8"?>
                        <jboss:ejb-jar xmlns:jboss="urn:jboss:ejb-jar:4.0" xmlns="https://jakarta.ee/xml/ns/jakartaee"
                                       xmlns:s="urn:security:1.1" version="4.0" impl-version="2.0">
                          <assembly-descriptor>
                            <s:security>
                              <ejb-name>RunAsDelegator</ejb-name>
                              <s:run-as-principal>%s</s:run-as-principal>
                            </s:security>
                          </assembly-descriptor>
                        </jboss:ejb-jar>
                        """.formatted(RUN_AS)), "jboss-ejb3.xml")
                // Payara: the role's principal, which is the run-as principal of a bean with that role
                .addAsWebInfResource(new StringAsset("""
                        <?xml version="1.0" encoding="UTF-8"?>
                        <!DOCTYPE glassfish-web-app PUBLIC "-//GlassFish.org//DTD GlassFish Application Server 3.1 Servlet 3.0//EN" "http://glassfish.org/dtds/glassfish-web-app_3_0-1.dtd">
                        <glassfish-web-app>
                          <security-role-mapping>
                            <role-name>auditor</role-name>
                            <principal-name>%s</principal-name>
                          </security-role-mapping>
                        </glassfish-web-app>
                        """.formatted(RUN_AS)), "glassfish-web.xml")
                .addAsWebInfResource(new StringAsset("""
                        <?xml version="1.0" encoding="UTF-8"?>
                        <!DOCTYPE glassfish-ejb-jar PUBLIC "-//GlassFish.org//DTD GlassFish Application Server 3.1 EJB 3.1//EN" "http://glassfish.org/dtds/glassfish-ejb-jar_3_1-1.dtd">
                        <glassfish-ejb-jar>
                          <enterprise-beans>
                            <ejb>
                              <ejb-name>RunAsDelegator</ejb-name>
                              <principal><name>%s</name></principal>
                            </ejb>
                          </enterprise-beans>
                        </glassfish-ejb-jar>
                        """.formatted(RUN_AS)), "glassfish-ejb-jar.xml");
        return export(war, dir);
    }

    /** The JNDI names of the two XA pools, which xa.war's resource-refs carry too (WildFly: below java:/). */
    public static final String[] XA_RESOURCES = {"jdbc/stockXa", "jdbc/ledgerXa", "jdbc/ledgerNative"};

    /**
     * xa.war: {@link XaServlet}, one UserTransaction over the two XA pools; its pages need a signed-in user (the
     * server's registry, as plain.war).
     */
    public static Path xaWar(Path dir) throws Exception {
        StringBuilder refs = new StringBuilder();
        StringBuilder jbossRefs = new StringBuilder();
        for (String name : XA_RESOURCES) {
            refs.append(RESOURCE_REF.replace("jdbc/erp", name));
            jbossRefs.append("""
                      <resource-ref>
                        <res-ref-name>%s</res-ref-name>
                        <jndi-name>java:/%s</jndi-name>
                      </resource-ref>
                    """.formatted(name, name));
        }
        String jbossWeb = """
                <?xml version="1.0" encoding="UTF-8"?>
                <jboss-web xmlns="urn:jboss:jakartaee:1.0" version="15.0">
                %s</jboss-web>
                """.formatted(jbossRefs);
        WebArchive war = ShrinkWrap.create(WebArchive.class, "xa.war")
                .addClasses(XaServlet.class, DatabaseIdentity.class)
                .setWebXML(new StringAsset(webXml("/xa/*", refs.toString()).replace(RESOURCE_REF, "")))
                .addAsWebInfResource(new StringAsset(NO_CDI), "beans.xml")
                .addAsWebInfResource(new StringAsset(jbossWeb), "jboss-web.xml");
        return export(war, dir);
    }

    private static Path export(WebArchive war, Path dir) throws Exception {
        Files.createDirectories(dir);
        Path file = dir.resolve(war.getName());
        war.as(ZipExporter.class).exportTo(file.toFile(), true);
        return file;
    }
}
