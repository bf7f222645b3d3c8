package dev.proxyra.it.support;

import org.jboss.shrinkwrap.api.ShrinkWrap;
import org.jboss.shrinkwrap.api.spec.WebArchive;

import java.io.File;

/** demo.war as built by this module: the very archive the demo runs. */
public final class DemoDeployment {
    private DemoDeployment() {
    }

    public static WebArchive demoWar() {
        File war = new File(System.getProperty("proxyra.war", "target/demo.war"));
        if (!war.isFile()) {
            throw new IllegalStateException("demo.war not built: " + war);
        }
        return ShrinkWrap.createFromZipFile(WebArchive.class, war);
    }
}
