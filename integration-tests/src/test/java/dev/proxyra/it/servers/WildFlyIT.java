package dev.proxyra.it.servers;

import java.net.URI;

/** The scenarios on WildFly 39, configured with jboss-cli. */
class WildFlyIT extends ServerScenarios {

    @Override
    protected DemoServer create(ServerEnvironment env) {
        return new WildFlyServer(env);
    }

    @Override
    protected String id() {
        return "wildfly";
    }

    /** The guide's undeploy commands stop the adapter and its pool; the server stays up. */
    @org.junit.jupiter.api.Test
    @org.junit.jupiter.api.Order(99)
    void undeployingStopsThePool() throws Exception {
        ((WildFlyServer) server).undeploy();
        org.assertj.core.api.Assertions.assertThat(server.log()).contains("proxyra: pool erp stopped: borrows warm=")
                .contains("proxyra: resource adapter stopped")
                // a pool that could not close (a class of the rar already gone) says so, and must not
                .doesNotContain("could not close its physical connections").doesNotContain("stopping the adapter failed");
    }

    /** WildFly serves MicroProfile Health on its management interface. */
    @Override
    protected URI readiness() {
        return ((WildFlyServer) server).management().resolve("health/ready");
    }
}
