package dev.proxyra.it.servers;

/** The scenarios on Payara Server, configured with asadmin. */
class PayaraServerIT extends ServerScenarios {

    @Override
    protected DemoServer create(ServerEnvironment env) {
        return new PayaraServerDomain(env);
    }

    @Override
    protected String id() {
        return "payara-server";
    }
}
