package dev.proxyra.it.redeploy;

import jakarta.ws.rs.ApplicationPath;
import jakarta.ws.rs.core.Application;

/** JAX-RS root of the redeploy suite's admin application. */
@ApplicationPath("/")
public class AdminApplication extends Application {
}
