package dev.proxyra.demo;

import jakarta.ws.rs.ApplicationPath;
import jakarta.ws.rs.core.Application;

/**
 * The demo application: every endpoint takes connections from proxyra's {@code jdbc/erp} (or the
 * annotation-defined {@code java:app/jdbc/erp-annotated}) and shows which database identity they ran as.
 * web.xml requires a signed-in user everywhere except under {@code /public}.
 */
@ApplicationPath("/")
public class DemoApplication extends Application {
}
