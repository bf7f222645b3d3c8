package dev.proxyra.it.servers;

/**
 * The redeploy cycle on Open Liberty as its guide says (docs/servers/open-liberty.md, "Undeploy"): the resource
 * adapter, its connection factory {@code jdbc/erp} and the applications leave the running server's server.xml, then
 * come back into it.
 */
class OpenLibertyRedeployIT extends ServerRedeployScenario {

    @Override
    protected String id() {
        return "open-liberty-redeploy";
    }

    @Override
    protected DemoServer create(ServerEnvironment env) {
        return new OpenLibertyServer(env);
    }

    private OpenLibertyServer liberty() {
        return (OpenLibertyServer) server;
    }

    @Override
    protected void startBare() throws Exception {
        liberty().startBare();
    }

    @Override
    protected void deployAll() throws Exception {
        liberty().deployProxyraDemoAndPlain();
    }

    @Override
    protected void undeployAll() throws Exception {
        liberty().undeploy();
    }

    @Override
    protected long pid() {
        return liberty().pid();
    }
}
