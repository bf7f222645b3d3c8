package dev.proxyra.it.servers;

/** The scenarios on Open Liberty, configured with server.xml. */
class OpenLibertyIT extends ServerScenarios {

    @Override
    protected DemoServer create(ServerEnvironment env) {
        return new OpenLibertyServer(env);
    }

    @Override
    protected String id() {
        return "open-liberty";
    }

    /** Removing the adapter from server.xml stops it and its pool while the server runs. */
    @org.junit.jupiter.api.Test
    @org.junit.jupiter.api.Order(99)
    void undeployingStopsThePool() throws Exception {
        ((OpenLibertyServer) server).undeploy();
        org.assertj.core.api.Assertions.assertThat(server.log()).contains("proxyra: pool erp stopped: borrows warm=")
                .contains("proxyra: resource adapter stopped")
                // a pool that could not close (a class of the rar already gone) says so, and must not
                .doesNotContain("could not close its physical connections").doesNotContain("stopping the adapter failed");
    }
}
