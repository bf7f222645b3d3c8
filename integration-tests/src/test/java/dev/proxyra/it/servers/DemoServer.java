package dev.proxyra.it.servers;

import java.io.IOException;
import java.net.URI;

/**
 * One Jakarta EE 10 server run as its users run it: its distribution from Maven Central, configured with its own
 * tools (asadmin, jboss-cli, server.xml), bound to 127.0.0.1, proxyra.rar deployed with a pool {@code jdbc/erp}
 * (PoolName erp, UnauthenticatedAccess=METADATA_ONLY), the proxy password given only as the environment variable
 * PROXYRA_PASSWORD (MicroProfile Config), and demo.war, plain.war and ejb.war deployed.
 */
public interface DemoServer extends AutoCloseable {

    /** e.g. "WildFly 39.0.1.Final". */
    String name();

    /** Installs, configures and starts the server and deploys everything; returns when the applications answer. */
    void start() throws Exception;

    /** http://127.0.0.1:port/ */
    URI root();

    /** The demo application, ending in "/demo/". */
    default URI demo() {
        return root().resolve("demo/");
    }

    /** plain.war, ending in "/plain/". */
    default URI plain() {
        return root().resolve("plain/");
    }

    /** ejb.war, ending in "/ejb/". */
    default URI ejb() {
        return root().resolve("ejb/");
    }

    /** xa.war, ending in "/xa/". */
    default URI xa() {
        return root().resolve("xa/");
    }

    /** Everything the server logged so far (for Open Liberty also its FFDC reports). */
    String log() throws IOException;

    /** The name of the principal the server gives an unauthenticated request. */
    String anonymousName();

    /** Log lines that would mean the server took a refusal for a broken connection. */
    java.util.List<String> connectionErrorMarkers();

    /** Kills the server's JVM (SIGKILL), as at a power loss: no shutdown of any kind; returns when it is gone. */
    void crash() throws Exception;

    /**
     * Starts the killed server again on what it had on disk (configuration, deployments, transaction log), as its
     * users restart it; returns when the applications answer.
     */
    void restartAfterCrash() throws Exception;

    /** Asks the transaction manager for a recovery pass now, where it can be asked; else nothing (it recovers at start). */
    default void recoverNow() throws Exception {
    }

    /** Stops the server and leaves no process behind. */
    @Override
    void close() throws Exception;
}
