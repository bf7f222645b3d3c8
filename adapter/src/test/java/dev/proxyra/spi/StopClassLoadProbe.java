package dev.proxyra.spi;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.util.ArrayList;
import java.util.List;

import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedClass;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;

import jakarta.resource.spi.ManagedConnection;

import dev.proxyra.identity.DbIdentity;
import dev.proxyra.testing.Database;
import dev.proxyra.testing.Factories;
import dev.proxyra.testing.Sessions;

/**
 * Run in a JVM of its own by {@link StopLoadsNoClassTest}: uses the adapter as a server would (start, a pool, sessions
 * for two callers, the health check), then records with JFR which classes undeploying defines (the server destroys its managed connection, then stops the
 * adapter), and prints
 * those of the adapter's archive (proxyra's, UCP's, the drivers', HdrHistogram's), one per line. With the argument {@code control} it
 * records the start and first use instead, which do define such classes: the recording is not blind.
 */
public final class StopClassLoadProbe {
    private StopClassLoadProbe() {
    }

    @FunctionalInterface
    private interface Action {
        void run() throws Exception;
    }

    /**
     * {@code args[0]}: the JDBC URL of a database seeded as {@link Database} seeds one, started by the caller:
     * this JVM uses no JDBC before the adapter does, so no class pgjdbc needs to close a connection is loaded early.
     */
    public static void main(String[] args) throws Exception {
        String url = args[0];
        boolean control = args.length > 1 && args[1].equals("control");
        {
            ProxyraResourceAdapter ra = new ProxyraResourceAdapter();
            ManagedConnection[] kept = new ManagedConnection[1];
            Action use = () -> {
                ra.start(null);
                ProxyraManagedConnectionFactory mcf = Factories.onUrl(url).resourceAdapter(ra).build();
                ManagedConnection mc = mcf.createManagedConnection(null, null);
                for (String caller : new String[] {"alice", "bob", "alice"}) {
                    try (Connection c = (Connection) mc.getConnection(null, new IdentityRequest(DbIdentity.of(caller, caller)))) {
                        if (!caller.equals(Sessions.currentUser(c))) {
                            throw new IllegalStateException("not running as " + caller);
                        }
                    }
                    mc.cleanup();
                }
                ra.pools().pools().forEach(p -> p.checkHealth());
                kept[0] = mc; // the server's pool still holds it when the adapter is undeployed
            };
            Action undeploy = () -> {
                kept[0].destroy();
                ra.stop();
            };
            List<String> defined;
            if (control) {
                defined = definedDuring(use);
                undeploy.run();
            } else {
                use.run();
                defined = definedDuring(undeploy);
            }
            defined.forEach(n -> System.out.println("LOADED-AT-STOP " + n));
            System.out.println("PROBE-DONE");
        }
    }

    private static List<String> definedDuring(Action action) throws Exception {
        Path jfr = Files.createTempFile("proxyra-stop", ".jfr");
        try {
            try (Recording recording = new Recording()) {
                recording.enable("jdk.ClassDefine");
                recording.start();
                action.run();
                recording.stop();
                recording.dump(jfr);
            }
            List<String> defined = new ArrayList<>();
            for (RecordedEvent e : RecordingFile.readAllEvents(jfr)) {
                RecordedClass c = e.getValue("definedClass");
                if (c != null && fromTheArchive(c.getName())) {
                    defined.add(c.getName());
                }
            }
            return defined.stream().distinct().sorted().toList();
        } finally {
            Files.deleteIfExists(jfr);
        }
    }

    /** Classes of proxyra.rar's jars; generated ones (lambdas, proxies) need no jar. */
    static boolean fromTheArchive(String name) {
        return (name.startsWith("dev.proxyra.") || name.startsWith("oracle.") || name.startsWith("org.postgresql.")
                || name.startsWith("org.HdrHistogram."))
                && !name.contains("$$Lambda") && !name.contains("/0x") && !name.contains("$Proxy");
    }
}
