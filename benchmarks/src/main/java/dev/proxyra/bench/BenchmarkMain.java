package dev.proxyra.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.results.format.ResultFormatType;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

import dev.proxyra.testing.Database;

/**
 * The benchmark run behind the README's command: starts one embedded PostgreSQL, probes heap per pooled
 * connection, runs {@link BorrowBenchmark} for every scenario at every thread count, then writes
 * results.json, the raw JMH results and chart.png. Settings are system properties (see the module's pom):
 * bench.output, bench.forks, bench.warmupIterations, bench.iterations, bench.iterationSeconds,
 * bench.threads (e.g. 1,8), bench.scenarios (all, or ids such as a,c), bench.heapConnections (0: skip),
 * bench.profile (JMH profilers: gc, cpu (client CPU time per borrow), jfr, ...; none for none), bench.jvmArgs (for the trial JVMs),
 * bench.clientSide (also run {@link AdapterOverheadBenchmark}, the client side alone over an in-memory driver; default true),
 * bench.interleavedRounds (100; 0 skips the {@link Interleaved} run), bench.sliceMillis (100).
 */
public final class BenchmarkMain {

    private BenchmarkMain() {
    }

    public static void main(String[] args) throws Exception {
        Path output = Path.of(System.getProperty("bench.output", "docs/benchmarks")).toAbsolutePath().normalize();
        Files.createDirectories(output);
        int forks = Integer.getInteger("bench.forks", 1);
        int warmups = Integer.getInteger("bench.warmupIterations", 8);
        int iterations = Integer.getInteger("bench.iterations", 6);
        int seconds = Integer.getInteger("bench.iterationSeconds", 1);
        int[] threads = Arrays.stream(System.getProperty("bench.threads", "1,8").split(","))
                .map(String::trim).mapToInt(Integer::parseInt).toArray();
        List<Scenario> scenarios = scenarios(System.getProperty("bench.scenarios", "all"));
        int heapConnections = Integer.getInteger("bench.heapConnections", 200);
        List<String> profilers = Arrays.stream(System.getProperty("bench.profile", "gc,cpu").split(","))
                .map(String::trim).filter(p -> !p.isEmpty() && !p.equals("none")).toList();
        String jvmArgs = System.getProperty("bench.jvmArgs", "-Xms512m -Xmx512m").trim();
        boolean clientSideRun = Boolean.parseBoolean(System.getProperty("bench.clientSide", "true"));
        int interleavedRounds = Integer.getInteger("bench.interleavedRounds", 100);
        int sliceMillis = Integer.getInteger("bench.sliceMillis", 100);

        Map<String, String> settings = new LinkedHashMap<>();
        settings.put("forks", String.valueOf(forks));
        settings.put("warmupIterations", warmups + " x " + seconds + " s");
        settings.put("measurementIterations", iterations + " x " + seconds + " s");
        settings.put("threads", Arrays.toString(threads));
        settings.put("poolSize", String.valueOf(BorrowBenchmark.POOL_SIZE));
        settings.put("validateConnectionOnBorrow", String.valueOf(Ucp.VALIDATE_ON_BORROW));
        settings.put("profilers", String.join(",", profilers));
        settings.put("trialJvmArgs", jvmArgs);
        settings.put("errors", "JMH 99.9% confidence half-widths (Student t over the measurement iterations)");

        long started = System.nanoTime();
        try (Database db = Database.embedded().passwordLogins().start()) {
            Map<String, String> environment = environment(db);
            HeapProbe.Result heap = null;
            if (heapConnections > 0) {
                System.out.println("# heap probe: " + heapConnections + " pooled connections, 5 rounds");
                heap = HeapProbe.measure(db.url(), heapConnections, 5);
                System.out.println("# heap probe: " + heap);
            }
            List<Measurement> measurements = new ArrayList<>();
            for (int t : threads) {
                measurements.addAll(run(BorrowBenchmark.class, scenarios, t, forks, warmups, iterations, seconds,
                        profilers, jvmArgs, db.url(), output.resolve("jmh-threads-" + t + ".json")));
            }
            List<Measurement> clientSide = new ArrayList<>();
            List<Scenario> pooled = scenarios.stream().filter(s -> s != Scenario.NEW_CONNECTION).toList();
            if (clientSideRun && !pooled.isEmpty()) {
                if (supportsConnectionFactoryClassName()) {
                    clientSide.addAll(run(AdapterOverheadBenchmark.class, pooled, 1, forks, warmups, iterations,
                            seconds, List.of("gc"), jvmArgs, db.url(), output.resolve("jmh-client-side.json")));
                } else {
                    System.out.println("# client-side run skipped: this adapter has no ConnectionFactoryClassName");
                }
            }
            List<Interleaved.Slice> slices = new ArrayList<>();
            if (interleavedRounds > 0) {
                for (int t : threads) {
                    System.out.println("# interleaved: " + t + " thread(s), " + interleavedRounds + " rounds of "
                            + scenarios.size() + " x " + sliceMillis + " ms slices (after 30 warm-up rounds)");
                    slices.addAll(Interleaved.run(scenarios, db.url(), t, 30, interleavedRounds, sliceMillis, 42L + t));
                }
                settings.put("interleaved", interleavedRounds + " rounds x " + scenarios.size() + " scenarios x "
                        + sliceMillis + " ms slices per thread count, after 30 warm-up rounds");
            }
            settings.put("wallClockSeconds", String.valueOf((System.nanoTime() - started) / 1_000_000_000L));
            Results results = new Results(environment, settings, measurements, clientSide, slices, heap);
            results.writeJson(output.resolve("results.json"));
            Files.writeString(output.resolve("results.md"), results.toMarkdown());
            Chart.render(results, output.resolve("chart.png"));
            print(results);
            System.out.println("# wrote " + output.resolve("results.json") + ", results.md and chart.png");
        }
    }

    private static List<Measurement> run(Class<?> benchmark, List<Scenario> scenarios, int threads, int forks,
            int warmups, int iterations, int seconds, List<String> profilers, String jvmArgs, String url, Path result)
            throws Exception {
        ChainedOptionsBuilder options = new OptionsBuilder()
                .include("^" + benchmark.getName().replace(".", "\\.") + "\\.")
                .param("scenario", scenarios.stream().map(Scenario::name).toArray(String[]::new))
                .threads(threads)
                .forks(forks)
                .warmupIterations(warmups)
                .warmupTime(TimeValue.seconds(seconds))
                .measurementIterations(iterations)
                .measurementTime(TimeValue.seconds(seconds))
                .shouldFailOnError(true)
                .jvmArgsAppend(trialJvmArgs(jvmArgs, url))
                .resultFormat(ResultFormatType.JSON)
                .result(result.toString());
        for (String p : profilers) {
            if (p.equals("cpu")) {
                options.addProfiler(CpuTimeProfiler.class);
            } else if (p.startsWith("jfr")) {
                options.addProfiler("jfr", "dir=" + Path.of("jfr-" + benchmark.getSimpleName() + "-threads-" + threads)
                        .toAbsolutePath() + (p.contains(":") ? ";" + p.substring(p.indexOf(':') + 1) : ""));
            } else {
                options.addProfiler(p);
            }
        }
        List<Measurement> out = new ArrayList<>();
        for (RunResult r : new Runner(options.build()).run()) {
            out.add(measurement(r));
        }
        return out;
    }

    private static boolean supportsConnectionFactoryClassName() {
        try {
            dev.proxyra.spi.ProxyraManagedConnectionFactory.class.getMethod("setConnectionFactoryClassName", String.class);
            return true;
        } catch (NoSuchMethodException e) {
            return false;
        }
    }

    static List<Scenario> scenarios(String spec) {
        if (spec == null || spec.isBlank() || spec.equals("all")) {
            return List.of(Scenario.values());
        }
        return Arrays.stream(spec.split(",")).map(String::trim).map(Scenario::byId).toList();
    }

    private static String[] trialJvmArgs(String jvmArgs, String url) {
        List<String> out = new ArrayList<>();
        if (!jvmArgs.isEmpty()) {
            out.addAll(Arrays.asList(jvmArgs.split("\\s+")));
        }
        out.add("-D" + BenchDatabase.URL_PROPERTY + "=" + url);
        return out.toArray(String[]::new);
    }

    static Measurement measurement(RunResult r) {
        Scenario s = Scenario.valueOf(r.getParams().getParam("scenario"));
        Result<?> primary = r.getPrimaryResult();
        Result<?> alloc = secondary(r, "gc.alloc.rate.norm");
        Result<?> cpu = secondary(r, "cpu.time.norm");
        return new Measurement(s, r.getParams().getThreads(), primary.getScore(), primary.getScoreError(),
                (int) primary.getStatistics().getN(),
                alloc == null ? Double.NaN : alloc.getScore(), alloc == null ? Double.NaN : alloc.getScoreError(),
                cpu == null ? Double.NaN : cpu.getScore(), cpu == null ? Double.NaN : cpu.getScoreError());
    }

    private static Result<?> secondary(RunResult r, String name) {
        Result<?> found = r.getSecondaryResults().get(name);
        return found != null ? found : r.getSecondaryResults().get("\u00b7" + name);
    }

    private static Map<String, String> environment(Database db) throws Exception {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("date", ZonedDateTime.now().format(DateTimeFormatter.ISO_OFFSET_DATE_TIME));
        env.put("cpus", String.valueOf(Runtime.getRuntime().availableProcessors()));
        env.put("cpuModel", cpuModel());
        env.put("os", System.getProperty("os.name") + " " + System.getProperty("os.version") + " "
                + System.getProperty("os.arch"));
        env.put("java", "Java " + System.getProperty("java.runtime.version") + " (" + System.getProperty("java.vm.name") + ")");
        try (Connection c = db.superuser(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("select current_setting('server_version')")) {
            rs.next();
            env.put("postgresql", "PostgreSQL " + rs.getString(1) + " (embedded, zonky)");
        }
        env.put("connection", "TCP loopback 127.0.0.1, logins checked by scram-sha-256; client, server and JMH share"
                + " the CPUs");
        return env;
    }

    private static String cpuModel() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) {
                    return line.substring(line.indexOf(':') + 1).trim();
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux
        }
        return System.getProperty("os.arch");
    }

    private static void print(Results results) {
        System.out.println();
        System.out.println("scenario                                          threads   ops/s (±99.9%)     µs/borrow/thread"
                + "   client CPU µs/borrow   B/borrow");
        for (Measurement m : results.measurements()) {
            System.out.println(String.format(Locale.ROOT, "%-50s %4d %9.0f ± %-7.0f %8.1f ± %-7.1f %7.1f ± %-6.1f %8.0f",
                    "(" + m.scenario().id() + ") " + m.scenario().label(), m.threads(), m.opsPerSecond(),
                    m.opsPerSecondError(), m.microsPerOp(), m.microsPerOpError(), m.cpuMicrosPerOp(),
                    m.cpuMicrosPerOpError(), m.bytesPerOp()));
        }
        if (!results.clientSide().isEmpty()) {
            System.out.println();
            System.out.println("client side only (in-memory driver)              threads   µs/borrow             B/borrow");
            for (Measurement m : results.clientSide()) {
                System.out.println(String.format(Locale.ROOT, "%-50s %4d %8.2f ± %-8.2f %8.0f ± %-6.0f",
                        "(" + m.scenario().id() + ") " + m.scenario().label(), m.threads(), m.microsPerOp(),
                        m.microsPerOpError(), m.bytesPerOp(), m.bytesPerOpError()));
            }
        }
        if (!results.slices().isEmpty()) {
            System.out.println();
            System.out.print(Interleaved.summary(results.slices()));
            for (Interleaved.PairedRatio r : results.pairedRatios()) {
                System.out.println("interleaved " + Interleaved.describe(r));
            }
        }
        System.out.println();
        List<Ratio> all = new ArrayList<>(results.ratios());
        all.addAll(results.clientSideRatios());
        for (Ratio r : all) {
            System.out.println(String.format(Locale.ROOT, "%-9s %d thr  %8.3f ± %-7.3f %s%s", r.name(), r.threads(),
                    r.value(), r.error(), r.meaning(),
                    r.target() == null ? "" : " [target " + ("max".equals(r.targetKind()) ? "<= " : ">= ") + r.target()
                            + ": " + (r.targetMet() ? "met" : "NOT met") + "]"));
        }
    }
}
