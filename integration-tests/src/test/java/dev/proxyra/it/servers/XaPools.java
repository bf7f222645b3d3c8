package dev.proxyra.it.servers;

import java.util.ArrayList;
import java.util.List;

import dev.proxyra.it.support.ItDatabase;
import dev.proxyra.it.support.PayaraSetup;

/**
 * The two XA pools of xa.war, one per XA database of the suite (ItDatabase.XA_DATABASES), configured as each server's
 * users configure an XATransaction connection factory: proxyra's {@code TransactionSupport=XATransaction} and the
 * server's own XA setting. PoolName is the database's name, JNDI name {@code jdbc/<name>Xa}.
 */
final class XaPools {
    private XaPools() {
    }

    static String jndiName(String database) {
        return "jdbc/" + database + "Xa";
    }

    /** asadmin: a connector connection pool with --transactionsupport XATransaction and its resource, per database. */
    static List<String> payaraCommands(ServerEnvironment env) {
        List<String> commands = new ArrayList<>();
        for (String database : ItDatabase.XA_DATABASES) {
            commands.add("create-connector-connection-pool --raname " + PayaraSetup.RAR_NAME
                    + " --connectiondefinition javax.sql.DataSource --transactionsupport XATransaction"
                    + " --steadypoolsize 0 --maxpoolsize 16 --maxwait 10000"
                    + " --property URL=" + PayaraSetup.escapeProperty(env.xaUrl(database)) + ":User=app_proxy:PoolName="
                    + database + ":TransactionSupport=XATransaction " + database + "-pool");
            commands.add("create-connector-resource --poolname " + database + "-pool " + jndiName(database));
        }
        return commands;
    }

    /**
     * jboss-cli: a second resource adapter of proxyra.rar whose transaction-support is XATransaction, with one
     * connection definition per database.
     */
    static String wildflyCli(ServerEnvironment env) {
        StringBuilder cli = new StringBuilder("batch\n")
                .append("/subsystem=resource-adapters/resource-adapter=proxyra-xa:add(archive=proxyra.rar,"
                        + " transaction-support=XATransaction)\n");
        for (String database : ItDatabase.XA_DATABASES) {
            String definition = "/subsystem=resource-adapters/resource-adapter=proxyra-xa/connection-definitions=" + database;
            cli.append(definition).append(":add(class-name=dev.proxyra.spi.ProxyraManagedConnectionFactory, jndi-name=java:/")
                    .append(jndiName(database)).append(", no-recovery=true)\n");
            cli.append(definition).append("/config-properties=URL:add(value=\"").append(env.xaUrl(database)).append("\")\n");
            cli.append(definition).append("/config-properties=User:add(value=app_proxy)\n");
            cli.append(definition).append("/config-properties=PoolName:add(value=").append(database).append(")\n");
            cli.append(definition).append("/config-properties=TransactionSupport:add(value=XATransaction)\n");
        }
        return cli.append("run-batch\n/subsystem=resource-adapters/resource-adapter=proxyra-xa:activate\n").toString();
    }

    /** server.xml: one connection factory per database; Liberty takes the transaction support from the factory. */
    static String libertyXml(ServerEnvironment env) {
        StringBuilder xml = new StringBuilder();
        for (String database : ItDatabase.XA_DATABASES) {
            xml.append("<connectionFactory id=\"").append(database).append("\" jndiName=\"").append(jndiName(database))
                    .append("\">\n  <properties.proxyra URL=\"").append(env.xaUrl(database).replace("&", "&amp;"))
                    .append("\" User=\"app_proxy\" PoolName=\"").append(database)
                    .append("\" TransactionSupport=\"XATransaction\"/>\n</connectionFactory>\n");
        }
        return xml.toString();
    }
}
