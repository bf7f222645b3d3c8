package dev.proxyra.it.servers;

import dev.proxyra.it.support.PayaraSetup;

/**
 * The redeploy cycle on Payara Server as its guide says (docs/servers/payara-server.md, "Undeploy"): undeploy the
 * applications, {@code asadmin undeploy --cascade=true proxyra}, deploy the rar again with the guide's commands
 * (which recreate the pool and {@code jdbc/erp}), deploy the applications.
 */
class PayaraServerRedeployIT extends ServerRedeployScenario {

    @Override
    protected String id() {
        return "payara-server-redeploy";
    }

    @Override
    protected DemoServer create(ServerEnvironment env) {
        return new PayaraServerDomain(env);
    }

    private PayaraServerDomain payara() {
        return (PayaraServerDomain) server;
    }

    @Override
    protected void startBare() throws Exception {
        payara().startBare();
    }

    @Override
    protected void deployAll() throws Exception {
        for (String command : PayaraServerDomain.asadminCommands(env.rar().toString(), env.jdbcUrl())) {
            payara().asadmin(command.split(" "));
        }
        payara().deploy(env.demoWar(), server.demo().resolve("public/whoami"));
        payara().deploy(env.plainWar(), server.plain().resolve("public/whoami"));
    }

    @Override
    protected void undeployAll() throws Exception {
        payara().asadmin("undeploy", "demo");
        payara().asadmin("undeploy", "plain");
        payara().asadmin("undeploy", "--cascade=true", PayaraSetup.RAR_NAME);
    }

    @Override
    protected long pid() throws Exception {
        return payara().pid();
    }
}
