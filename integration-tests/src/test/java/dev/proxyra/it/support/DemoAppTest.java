package dev.proxyra.it.support;

import java.net.URL;

import org.jboss.arquillian.container.test.api.Deployment;
import org.jboss.arquillian.junit5.ArquillianExtension;
import org.jboss.arquillian.test.api.ArquillianResource;
import org.jboss.shrinkwrap.api.spec.WebArchive;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.extension.ExtendWith;

/** A suite that talks HTTP, as a client would, to the demo war on Payara Micro with proxyra.rar deployed. */
@ExtendWith(ArquillianExtension.class)
public abstract class DemoAppTest {

    @Deployment(testable = false)
    public static WebArchive deployment() {
        return DemoDeployment.demoWar();
    }

    @ArquillianResource
    protected URL deploymentUrl;

    protected DemoClient demo;

    @BeforeEach
    void client() {
        demo = new DemoClient(deploymentUrl);
    }
}
