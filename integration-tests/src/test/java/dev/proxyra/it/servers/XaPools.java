package dev.proxyra.it.servers;

import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;

import dev.proxyra.it.support.ItDatabase;
import dev.proxyra.it.support.PayaraSetup;

/**
 * The two XA pools of xa.war, one per XA database of the suite (ItDatabase.XA_DATABASES), configured as each server's
 * users configure an XATransaction connection factory: proxyra's {@code TransactionSupportLevel=XATransaction} and the
 * server's own XA setting. PoolName is the database's name, JNDI name {@code jdbc/<name>Xa}. Each method takes the
 * JDBC URL of a database by its name; the server guides show what they generate (GuidesTest).
 */
final class XaPools {
    private XaPools() {
    }

    static String jndiName(String database) {
        return "jdbc/" + database + "Xa";
    }

    /**
     * asadmin: a connector connection pool with --transactionsupport XATransaction and its resource, per database, and
     * the transaction service's automatic recovery at start (off by default: without it Payara recovers nothing).
     */
    static List<String> payaraCommands(UnaryOperator<String> urlOf) {
        List<String> commands = new ArrayList<>();
        commands.add("set configs.config.server-config.transaction-service.automatic-recovery=true");
        for (String database : ItDatabase.XA_DATABASES) {
            commands.add("create-connector-connection-pool --raname " + PayaraSetup.RAR_NAME
                    + " --connectiondefinition javax.sql.DataSource --transactionsupport XATransaction"
                    + " --steadypoolsize 0 --maxpoolsize 16 --maxwait 10000"
                    + " --property URL=" + PayaraSetup.escapeProperty(urlOf.apply(database)) + ":User=app_proxy:PoolName="
                    + database + ":TransactionSupportLevel=XATransaction " + database + "-pool");
            commands.add("create-connector-resource --poolname " + database + "-pool " + jndiName(database));
        }
        return commands;
    }

    /**
     * jboss-cli: a second resource adapter of proxyra.rar whose transaction-support is XATransaction, with one
     * connection definition per database. WildFly registers a definition for crash recovery only when it has a
     * recovery credential; proxyra recovers as its own configured account, so the credential is that account's.
     */
    static String wildflyCli(UnaryOperator<String> urlOf) {
        StringBuilder cli = new StringBuilder("batch\n")
                .append("/subsystem=resource-adapters/resource-adapter=proxyra-xa:add(archive=proxyra.rar,"
                        + " transaction-support=XATransaction)\n");
        for (String database : ItDatabase.XA_DATABASES) {
            String definition = "/subsystem=resource-adapters/resource-adapter=proxyra-xa/connection-definitions=" + database;
            cli.append(definition).append(":add(class-name=dev.proxyra.spi.ProxyraManagedConnectionFactory, jndi-name=java:/")
                    .append(jndiName(database)).append(", recovery-username=app_proxy,"
                            + " recovery-password=\"${env.PROXYRA_PASSWORD}\")\n");
            cli.append(definition).append("/config-properties=URL:add(value=\"").append(urlOf.apply(database)).append("\")\n");
            cli.append(definition).append("/config-properties=User:add(value=app_proxy)\n");
            cli.append(definition).append("/config-properties=PoolName:add(value=").append(database).append(")\n");
            cli.append(definition).append("/config-properties=TransactionSupportLevel:add(value=XATransaction)\n");
        }
        return cli.append("run-batch\n/subsystem=resource-adapters/resource-adapter=proxyra-xa:activate\n").toString();
    }

    /** jboss-cli: what must go before proxyra.rar can be undeployed, the application using the XA pools and their adapter. */
    static String wildflyUndeployCli() {
        return """
                undeploy xa.war
                /subsystem=resource-adapters/resource-adapter=proxyra-xa:remove
                """;
    }

    /**
     * server.xml: one connection factory per database (Liberty takes the transaction support from the factory), and
     * recovery at start rather than at the first transaction.
     */
    static String libertyXml(UnaryOperator<String> urlOf) {
        StringBuilder xml = new StringBuilder("<transaction recoverOnStartup=\"true\"/>\n");
        for (String database : ItDatabase.XA_DATABASES) {
            xml.append("<connectionFactory id=\"").append(database).append("\" jndiName=\"").append(jndiName(database))
                    .append("\">\n  <properties.proxyra URL=\"").append(urlOf.apply(database).replace("&", "&amp;"))
                    .append("\" User=\"app_proxy\" PoolName=\"").append(database)
                    .append("\" TransactionSupportLevel=\"XATransaction\"/>\n</connectionFactory>\n");
        }
        return xml.toString();
    }
}
