package dev.proxyra.it.servers;

/**
 * The redeploy cycle on WildFly as its guide says (docs/servers/wildfly.md, "Undeploy"): undeploy the applications,
 * remove the resource adapter (with its connection definition {@code java:/jdbc/erp}), undeploy proxyra.rar; then
 * deploy it again, add and activate the adapter and its connection definition, deploy the applications.
 */
class WildFlyRedeployIT extends ServerRedeployScenario {

    @Override
    protected String id() {
        return "wildfly-redeploy";
    }

    @Override
    protected DemoServer create(ServerEnvironment env) {
        return new WildFlyServer(env);
    }

    private WildFlyServer wildFly() {
        return (WildFlyServer) server;
    }

    @Override
    protected void startBare() throws Exception {
        wildFly().startForApplications();
    }

    @Override
    protected void deployAll() throws Exception {
        wildFly().deployProxyraDemoAndPlain();
    }

    @Override
    protected void undeployAll() throws Exception {
        wildFly().undeployProxyraDemoAndPlain();
    }

    @Override
    protected long pid() {
        return wildFly().pid();
    }
}
