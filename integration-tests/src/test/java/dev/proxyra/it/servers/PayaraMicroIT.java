package dev.proxyra.it.servers;

/** The scenarios on Payara Micro, configured with asadmin command files. */
class PayaraMicroIT extends ServerScenarios {

    @Override
    protected DemoServer create(ServerEnvironment env) {
        return new PayaraMicroServer(env);
    }

    @Override
    protected String id() {
        return "payara-micro";
    }
}
