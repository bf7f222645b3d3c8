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

    /**
     * JBoss Threads (3.9.2 in WildFly 39) runs a pool thread's first task from a local variable of
     * {@code EnhancedQueueExecutor$ThreadBody.run()} that stays on the thread's stack for the thread's life. A heap
     * dump after the four redeploys showed Undertow's worker "default task-2" keeping so the request of an early
     * cycle: its demo.war, whose module links the proxyra.rar module of that cycle (demo.war's
     * jboss-deployment-structure.xml depends on it), and so that copy's class loader. Nothing else kept it.
     */
    @Override
    protected ServerHolder serverHolder() {
        return new ServerHolder("the first task a JBoss Threads pool thread ran",
                "org/jboss/threads/EnhancedQueueExecutor$ThreadBody.run"::equals, (type, field) -> false);
    }

    @Override
    protected long pid() {
        return wildFly().pid();
    }
}
