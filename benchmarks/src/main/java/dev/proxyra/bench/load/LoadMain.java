package dev.proxyra.bench.load;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

import dev.proxyra.bench.web.BenchCallers;
import dev.proxyra.testing.Database;
import dev.proxyra.testing.LoopbackProxy;

/**
 * The in-server load test: Payara Micro on 127.0.0.1 with proxyra.rar and a small benchmark war, against
 * an embedded PostgreSQL; HTTP clients (N concurrent, over M identities with a Zipf skew) call the same
 * endpoints backed by (1) proxyra, (2) Payara's own JDBC pool logged in as one shared account and (3) a new
 * physical login per request. Two workloads: the realistic request ({@code /order}: read five of the caller's rows by
 * index under row-level security, insert one, commit) and the worst case ({@code /who}: select current_user). The
 * resources take turns, round after round, so drift hits all of them alike.
 * Writes load.json and load.png beside the microbenchmark results.
 *
 * <p>System properties (set by the module's -Pload profile): load.payaraMicro, load.rar, load.postgresqlJar,
 * load.webClasses (the compiled dev.proxyra.bench.web classes), bench.output, load.work, load.clients (16),
 * load.identities (100), load.skew (1.0), load.rounds (4), load.warmupSeconds (4), load.seconds (10),
 * load.maxPoolSize (10 physical connections for proxyra and for the shared pool), load.initialWarmupSeconds (30),
 * load.jfr (false; true records the server with JFR into load/payara.jfr),
 * load.resources (proxyra,proxyra-scan,shared,login,set-role), load.oneWayDelayMicros (0; more puts every pool behind a
 * loopback proxy delaying each direction by that much, and the report goes to load-network.*), load.databaseCostRequests (8000 per line of the database's cost
 * per request, measured on one connection before the server starts; 0 skips it).
 */
public final class LoadMain {
    static final List<String> RESOURCES = List.of("proxyra", "proxyra-scan", "shared", "login", "set-role");
    /** The resources this run drives (load.resources, default all three in this order). */
    static final List<String> ACTIVE = List.of(System.getProperty("load.resources", String.join(",", RESOURCES))
            .split(",")).stream().map(String::trim).filter(RESOURCES::contains).toList();
    static final List<String> WORKLOADS = List.of("order", "who");
    /** The workloads this run drives (load.workloads, default both). */
    static final List<String> ACTIVE_WORKLOADS = List.of(System.getProperty("load.workloads", String.join(",", WORKLOADS))
            .split(",")).stream().map(String::trim).filter(WORKLOADS::contains).toList();
    /** The shared account of resource (2): it may read and write every caller's rows (BYPASSRLS). */
    static final String SHARED_ACCOUNT = "bench_shared";

    private LoadMain() {
    }

    public static void main(String[] args) throws Exception {
        Path output = Path.of(System.getProperty("bench.output", "docs/benchmarks")).toAbsolutePath().normalize();
        Path work = Path.of(System.getProperty("load.work", "load")).toAbsolutePath().normalize();
        Path micro = Path.of(require("load.payaraMicro"));
        Path rar = Path.of(require("load.rar"));
        Path pgJar = Path.of(require("load.postgresqlJar"));
        Path webClasses = Path.of(require("load.webClasses"));
        int clients = Integer.getInteger("load.clients", 16);
        int identities = Integer.getInteger("load.identities", 100);
        double skew = Double.parseDouble(System.getProperty("load.skew", "1.0"));
        int rounds = Integer.getInteger("load.rounds", 4);
        int warmup = Integer.getInteger("load.warmupSeconds", 4);
        int seconds = Integer.getInteger("load.seconds", 10);
        int maxPool = Integer.getInteger("load.maxPoolSize", 10);
        int initialWarmup = Integer.getInteger("load.initialWarmupSeconds", 30);
        // a network between the server and the database: each direction delayed, as a LAN or a cloud zone is
        long delayMicros = Long.getLong("load.oneWayDelayMicros", 0);
        String stem = delayMicros > 0 ? "load-network" : "load";
        Files.createDirectories(output);
        deleteTree(work);
        Files.createDirectories(work);

        try (Database db = Database.embedded().passwordLogins().start();
             LoopbackProxy network = delayMicros > 0
                     ? new LoopbackProxy(db.port(), Duration.ofNanos(delayMicros * 1000)) : null) {
            db.execute(schema(identities));
            String serverUrl = network == null ? db.url() : network.url();
            List<DatabaseCost.Line> databaseCost = List.of();
            int costRequests = Integer.getInteger("load.databaseCostRequests", 8000);
            if (costRequests > 0 && CpuMeter.available()) {
                System.out.println("# load: the database's CPU per request on one connection, " + costRequests
                        + " requests per line");
                databaseCost = DatabaseCost.measure(db.url(), Database.PROXY_PASSWORD, costRequests / 4,
                        costRequests);
            }
            Path war = buildWar(webClasses, work.resolve("bench.war"));
            int port = freePort();
            Path preBoot = work.resolve("pre-boot-commands.txt");
            Path postBoot = work.resolve("post-boot-commands.txt");
            Files.writeString(preBoot, "set configs.config.server-config.network-config.network-listeners"
                    + ".network-listener.http-listener.address=127.0.0.1\n");
            Files.writeString(postBoot, String.join("\n", postBootCommands(rar, serverUrl, maxPool)) + "\n");
            Path log = work.resolve("server.log");
            List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-Xmx768m", "-XX:+UseSerialGC", "-Djava.io.tmpdir=" + work.resolve("tmp")));
            if (Boolean.getBoolean("load.jfr")) {
                // a profile of the server for the whole run, to see where proxyra's share of the CPU goes
                command.add("-XX:StartFlightRecording=filename=" + work.resolve("payara.jfr") + ",settings=profile");
            }
            command.addAll(List.of(
                    "-jar", micro.toString(), "--nohazelcast", "--port", String.valueOf(port),
                    "--rootdir", work.resolve("root").toString(),
                    "--prebootcommandfile", preBoot.toString(), "--postbootcommandfile", postBoot.toString(),
                    "--addlibs", pgJar.toString(), "--deploy", war.toString(), "--contextroot", "bench",
                    "--logtofile", log.toString()));
            Files.createDirectories(work.resolve("tmp"));
            ProcessBuilder pb = new ProcessBuilder(command).directory(work.toFile())
                    .redirectErrorStream(true).redirectOutput(work.resolve("console.log").toFile());
            pb.environment().put("PROXYRA_PASSWORD", Database.PROXY_PASSWORD);
            pb.environment().put("BENCH_DB_URL", serverUrl);
            System.out.println("# load: starting Payara Micro on 127.0.0.1:" + port + " (log: " + log + ")");
            Process payara = pb.start();
            CpuMeter cpu = CpuMeter.onLinux(payara.toHandle(), postmaster(db));
            List<LoadRound> results = new ArrayList<>();
            Map<String, long[]> borrows = new LinkedHashMap<>();
            try {
                HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                        .connectTimeout(Duration.ofSeconds(5)).build();
                String base = "http://127.0.0.1:" + port + "/bench/";
                awaitReady(http, base + "who/", payara, Duration.ofSeconds(240));
                checkBootCommands(work);
                System.out.println("# load: ready; " + clients + " clients over " + identities
                        + " identities (Zipf s=" + skew + "), " + rounds + " rounds of " + warmup + "+" + seconds + " s");
                // Payara's, the adapter's and the driver's code paths are cold: run each resource once unrecorded.
                for (String workload : ACTIVE_WORKLOADS) {
                    for (String resource : ACTIVE) {
                        drive(http, base, workload, resource, 0, clients, identities, skew, initialWarmup, 1, null);
                    }
                }
                for (int r = 1; r <= rounds; r++) {
                    // The order rotates every round: the server keeps warming up and the machine's load drifts,
                    // and neither may always favour the resource that runs last.
                    for (String workload : ACTIVE_WORKLOADS) {
                        for (int k = 0; k < ACTIVE.size(); k++) {
                            String resource = ACTIVE.get((k + r - 1) % ACTIVE.size());
                            Map<String, long[]> before = poolBorrows(http, base);
                            LoadRound round = drive(http, base, workload, resource, r, clients, identities, skew,
                                    warmup, seconds, cpu);
                            long[] during = before.containsKey(resource)
                                    ? minus(poolBorrows(http, base).get(resource), before.get(resource)) : null;
                            if (during != null) {
                                borrows.merge(workload + " " + resource, during, LoadMain::plus);
                            }
                            System.out.println(String.format(Locale.ROOT,
                                    "# load round %d %-5s %-12s %8.1f req/s  p50 %7.2f ms  p99 %7.2f ms  errors %d%s", r,
                                    workload, resource, round.requestsPerSecond(), round.p50Millis(), round.p99Millis(),
                                    round.errors(), round.cpu() == null ? "" : String.format(Locale.ROOT,
                                            "  cpu ms/request: server %.3f database %.3f clients %.3f",
                                            round.cpu().serverMillis(), round.cpu().databaseMillis(),
                                            round.cpu().clientMillis())));
                            results.add(round);
                        }
                    }
                }
            } finally {
                payara.destroy();
                if (!payara.waitFor(60, TimeUnit.SECONDS)) {
                    payara.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
                }
            }
            Map<String, String> env = new LinkedHashMap<>();
            env.put("date", ZonedDateTime.now().format(DateTimeFormatter.ISO_OFFSET_DATE_TIME));
            env.put("cpus", String.valueOf(Runtime.getRuntime().availableProcessors()));
            env.put("java", "Java " + System.getProperty("java.runtime.version"));
            env.put("server", "Payara Micro " + System.getProperty("load.payaraVersion", micro.getFileName().toString())
                    + ", -Xmx768m -XX:+UseSerialGC");
            env.put("setup", clients + " HTTP clients (JDK HttpClient, HTTP/1.1 keep-alive, BASIC auth) over " + identities
                    + " identities, Zipf s=" + skew + "; " + initialWarmup + " s unrecorded warm-up per workload and"
                    + " resource, then " + rounds + " rounds x " + ACTIVE_WORKLOADS.size() + " workloads x " + ACTIVE.size()
                    + " resources (the order rotated every round), " + warmup + " s warm-up + " + seconds
                    + " s measured each");
            env.put("workloads", "order: one transaction reading the caller's 5 latest of " + ROWS_PER_CALLER
                    + " rows by index (row-level security for (1) and (3), a WHERE clause for (2)), inserting one and"
                    + " committing; who: select current_user");
            env.put("pools", maxPool + " physical connections for proxyra (UCP MaxPoolSize; Payara pools up to 64"
                    + " thin managed connections) and for the shared JDBC pool; IdentityCheck=VERIFY (default);"
                    + " PostgreSQL checks every login with scram-sha-256; Payara, PostgreSQL and the clients share"
                    + " the CPUs");
            env.put("network", delayMicros > 0 ? "every pool reaches the database through a loopback proxy that delays each"
                    + " direction by " + delayMicros + " µs (a round trip costs " + 2 * delayMicros + " µs more)"
                    : "loopback, no added delay");
            borrows.forEach((key, counts) -> env.put("borrows " + key, borrowShares(counts)));
            LoadReport report = new LoadReport(env, results, databaseCost);
            Files.writeString(output.resolve(stem + ".json"), report.toJson(), StandardCharsets.UTF_8);
            report.renderChart(output.resolve(stem + ".png"));
            Files.writeString(output.resolve(stem + ".md"), report.toMarkdown(), StandardCharsets.UTF_8);
            report.print();
            System.out.println("# wrote " + output.resolve(stem + ".json") + " and " + output.resolve(stem + ".png"));
        }
    }

    static List<String> postBootCommands(Path rar, String url, int maxPool) {
        String escapedUrl = url.replace("\\", "\\\\").replace(":", "\\:").replace("=", "\\=");
        return List.of(
                "deploy --name proxyra " + rar.toAbsolutePath(),
                "create-connector-connection-pool --raname proxyra --connectiondefinition javax.sql.DataSource"
                        + " --transactionsupport LocalTransaction --steadypoolsize 0 --maxpoolsize 64 --maxwait 10000"
                        + " --property URL=" + escapedUrl + ":User=app_proxy:MaxPoolSize=" + maxPool + ":PoolName=proxyra proxyra-pool",
                "create-connector-resource --poolname proxyra-pool jdbc/proxyra",
                "create-connector-connection-pool --raname proxyra --connectiondefinition javax.sql.DataSource"
                        + " --transactionsupport LocalTransaction --steadypoolsize 0 --maxpoolsize 64 --maxwait 10000"
                        + " --property URL=" + escapedUrl + ":User=app_proxy:MaxPoolSize=" + maxPool
                        + ":IdentityCheck=SCAN:PoolName=proxyra-scan proxyra-scan-pool",
                "create-connector-resource --poolname proxyra-scan-pool jdbc/proxyra-scan",
                "create-jdbc-connection-pool --datasourceclassname org.postgresql.ds.PGSimpleDataSource"
                        + " --restype javax.sql.DataSource --steadypoolsize " + maxPool + " --maxpoolsize " + maxPool
                        + " --maxwait 10000 --property user=" + SHARED_ACCOUNT + ":password=${ENV\\=PROXYRA_PASSWORD}:url="
                        + escapedUrl
                        + " shared-pool",
                "create-jdbc-resource --connectionpoolid shared-pool jdbc/shared",
                // (4): the proxy account in Payara's own pool, the role set by hand per request (WorkloadServlet)
                "create-jdbc-connection-pool --datasourceclassname org.postgresql.ds.PGSimpleDataSource"
                        + " --restype javax.sql.DataSource --steadypoolsize " + maxPool + " --maxpoolsize " + maxPool
                        + " --maxwait 10000 --property user=app_proxy:password=${ENV\\=PROXYRA_PASSWORD}:url="
                        + escapedUrl
                        + " set-role-pool",
                "create-jdbc-resource --connectionpoolid set-role-pool jdbc/set-role");
    }

    static final int ROWS_PER_CALLER = 20;

    /**
     * The realistic request's table: each caller's rows under row-level security, an index that serves "the caller's
     * latest", the callers' grants, and the shared account of resource (2), which bypasses row-level security as such
     * an account's applications need. Beside it the same rows in a table without a policy, which callers reach only
     * through views that filter and check by current_user (a table with a policy makes every plan on it depend on the
     * role, even through a view owned by a role the policy does not apply to).
     */
    static String schema(int identities) {
        return """
                CREATE TABLE bench_orders (id bigserial PRIMARY KEY, owner name NOT NULL DEFAULT current_user,
                    item text NOT NULL, created timestamptz NOT NULL DEFAULT now());
                CREATE INDEX bench_orders_owner_id ON bench_orders (owner, id);
                ALTER TABLE bench_orders ENABLE ROW LEVEL SECURITY;
                CREATE POLICY own ON bench_orders USING (owner = current_user) WITH CHECK (owner = current_user);
                GRANT SELECT, INSERT ON bench_orders TO callers;
                GRANT USAGE ON SEQUENCE bench_orders_id_seq TO callers;
                CREATE TABLE bench_view_orders (id bigserial PRIMARY KEY, owner name NOT NULL DEFAULT current_user,
                    item text NOT NULL, created timestamptz NOT NULL DEFAULT now());
                CREATE INDEX bench_view_orders_owner_id ON bench_view_orders (owner, id);
                CREATE VIEW bench_my_orders AS
                    SELECT id, owner, item FROM bench_view_orders WHERE owner = current_user WITH LOCAL CHECK OPTION;
                CREATE VIEW bench_my_orders_sb WITH (security_barrier) AS
                    SELECT id, owner, item FROM bench_view_orders WHERE owner = current_user WITH LOCAL CHECK OPTION;
                GRANT SELECT, INSERT ON bench_my_orders, bench_my_orders_sb TO callers;
                GRANT USAGE ON SEQUENCE bench_view_orders_id_seq TO callers;
                CREATE ROLE %1$s LOGIN BYPASSRLS PASSWORD '%2$s';
                GRANT SELECT, INSERT ON bench_orders TO %1$s;
                GRANT USAGE ON SEQUENCE bench_orders_id_seq TO %1$s;
                INSERT INTO bench_orders (owner, item)
                    SELECT 'caller' || lpad(i::text, 3, '0'), 'seed ' || j
                    FROM generate_series(1, %3$d) i, generate_series(1, %4$d) j;
                INSERT INTO bench_view_orders (owner, item) SELECT owner, item FROM bench_orders;
                ANALYZE bench_orders;
                ANALYZE bench_view_orders;
                """.formatted(SHARED_ACCOUNT, Database.PROXY_PASSWORD, identities, ROWS_PER_CALLER);
    }

    /** What a request answers: the caller for every resource, except the shared account's current_user. */
    static String expectedAnswer(String workload, String resource, String caller) {
        return workload.equals("who") && resource.equals("shared") ? SHARED_ACCOUNT : caller;
    }

    /** The database's postmaster, from the pid file in its data directory: its children are the backends. */
    static ProcessHandle postmaster(Database db) throws java.sql.SQLException, IOException {
        String dataDirectory;
        try (var c = db.superuser(); var s = c.createStatement(); var rs = s.executeQuery("show data_directory")) {
            rs.next();
            dataDirectory = rs.getString(1);
        }
        long pid = Long.parseLong(Files.readAllLines(Path.of(dataDirectory, "postmaster.pid")).get(0).trim());
        return ProcessHandle.of(pid).orElseThrow(() -> new IllegalStateException("no postmaster with pid " + pid));
    }

    /**
     * N clients, each calling the workload's endpoint as a Zipf-chosen caller as fast as answers come back; with a
     * {@code cpu} meter, the CPU each party used during the measured window.
     */
    static LoadRound drive(HttpClient http, String base, String workload, String resource, int round, int clients,
            int identities, double skew, int warmupSeconds, int seconds, CpuMeter cpu) throws InterruptedException {
        String url = base + workload + "/" + resource;
        Zipf zipf = new Zipf(identities, skew);
        String[] auth = new String[identities];
        String[] expected = new String[identities];
        for (int i = 0; i < identities; i++) {
            String caller = String.format("caller%03d", i + 1);
            auth[i] = basicAuth(caller);
            expected[i] = expectedAnswer(workload, resource, caller);
        }
        URI uri = URI.create(url);
        long start = System.nanoTime();
        long measureFrom = start + TimeUnit.SECONDS.toNanos(warmupSeconds);
        long end = measureFrom + TimeUnit.SECONDS.toNanos(seconds);
        List<long[]> latencies = new ArrayList<>();
        AtomicLong errors = new AtomicLong();
        AtomicLong completedInWindow = new AtomicLong();
        CountDownLatch done = new CountDownLatch(clients);
        List<LongList> perClient = new ArrayList<>();
        for (int c = 0; c < clients; c++) {
            LongList mine = new LongList();
            perClient.add(mine);
            SplittableRandom random = new SplittableRandom(31L * round + c * 7919L + resource.hashCode());
            Thread t = new Thread(() -> {
                try {
                    while (true) {
                        long before = System.nanoTime();
                        if (before >= end) {
                            break;
                        }
                        int who = zipf.sample(random);
                        boolean ok;
                        try {
                            HttpResponse<String> response = http.send(HttpRequest.newBuilder(uri)
                                    .header("Authorization", auth[who]).timeout(Duration.ofSeconds(30)).GET().build(),
                                    HttpResponse.BodyHandlers.ofString());
                            ok = response.statusCode() == 200 && expected[who].equals(response.body());
                        } catch (IOException e) {
                            ok = false;
                        }
                        long after = System.nanoTime();
                        if (ok && after >= measureFrom && after <= end) {
                            completedInWindow.incrementAndGet(); // the requests the window's CPU was spent on
                        }
                        if (before >= measureFrom && after <= end) {
                            if (ok) {
                                mine.add(after - before);
                            } else {
                                errors.incrementAndGet();
                            }
                        }
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } finally {
                    done.countDown();
                }
            }, "load-" + workload + "-" + resource + "-" + c);
            t.setDaemon(true);
            t.start();
        }
        CpuMeter.Sample cpuUsed = null;
        if (cpu != null) {
            // the meter reads at the window's edges; the clients decide on their own which requests fall inside
            parkUntil(measureFrom);
            CpuMeter.Sample atStart = cpu.sample();
            parkUntil(end);
            cpuUsed = cpu.sample().minus(atStart);
        }
        done.await();
        for (LongList l : perClient) {
            latencies.add(l.toArray());
        }
        long[] all = latencies.stream().flatMapToLong(java.util.Arrays::stream).toArray();
        return LoadRound.of(workload, resource, round, clients, seconds, all, errors.get(),
                cpuUsed == null ? null : LoadRound.CpuPerRequest.of(cpuUsed, completedInWindow.get()));
    }

    private static void parkUntil(long nanoTime) {
        for (long left; (left = nanoTime - System.nanoTime()) > 0; ) {
            java.util.concurrent.locks.LockSupport.parkNanos(left);
        }
    }

    /** The Authorization header of a bench caller (every caller has the same password). */
    static String basicAuth(String caller) {
        return "Basic " + Base64.getEncoder().encodeToString((caller + ":" + BenchCallers.PASSWORD)
                .getBytes(StandardCharsets.UTF_8));
    }

    /** proxyra's borrow counters per pool name (warm, switched, new physical), read from its MBeans by the war. */
    private static Map<String, long[]> poolBorrows(HttpClient http, String base) throws IOException, InterruptedException {
        String auth = basicAuth("caller001");
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create(base + "pools"))
                .header("Authorization", auth).timeout(Duration.ofSeconds(30)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != 200) {
            throw new IOException("pool counters: HTTP " + response.statusCode() + " " + response.body());
        }
        Map<String, long[]> pools = new LinkedHashMap<>();
        for (String line : response.body().split("\n")) {
            String[] f = line.trim().split(" ");
            if (f.length == 4) {
                pools.put(f[0], new long[] {Long.parseLong(f[1]), Long.parseLong(f[2]), Long.parseLong(f[3])});
            }
        }
        return pools;
    }

    static long[] minus(long[] a, long[] b) {
        long[] d = a.clone();
        for (int i = 0; i < d.length; i++) {
            d[i] -= b[i];
        }
        return d;
    }

    static long[] plus(long[] a, long[] b) {
        long[] s = a.clone();
        for (int i = 0; i < s.length; i++) {
            s[i] += b[i];
        }
        return s;
    }

    static String borrowShares(long[] warmSwitchedNew) {
        long total = warmSwitchedNew[0] + warmSwitchedNew[1] + warmSwitchedNew[2];
        return String.format(Locale.ROOT, "%,d borrows: %.0f%% warm (the caller's own session), %.0f%% identity"
                + " switch, %.1f%% new physical connection", total, 100.0 * warmSwitchedNew[0] / total,
                100.0 * warmSwitchedNew[1] / total, 100.0 * warmSwitchedNew[2] / total);
    }

    private static void awaitReady(HttpClient http, String base, Process payara, Duration timeout) throws Exception {
        String auth = basicAuth("caller001");
        long deadline = System.nanoTime() + timeout.toNanos();
        String last = "no answer";
        while (System.nanoTime() < deadline) {
            if (!payara.isAlive()) {
                throw new IllegalStateException("Payara Micro exited with " + payara.exitValue() + " (see console.log)");
            }
            boolean allUp = true;
            for (String r : ACTIVE) {
                try {
                    HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create(base + r))
                            .header("Authorization", auth).timeout(Duration.ofSeconds(10)).GET().build(),
                            HttpResponse.BodyHandlers.ofString());
                    if (response.statusCode() != 200) {
                        allUp = false;
                        last = r + ": HTTP " + response.statusCode() + " " + response.body();
                    }
                } catch (IOException e) {
                    allUp = false;
                    last = r + ": " + e;
                }
            }
            if (allUp) {
                return;
            }
            Thread.sleep(1000);
        }
        throw new IllegalStateException("Payara Micro did not serve the benchmark within " + timeout + ": " + last);
    }

    /** Payara only logs a WARNING when a boot command fails and starts anyway: read the log. */
    private static void checkBootCommands(Path work) throws IOException {
        StringBuilder all = new StringBuilder();
        try (Stream<Path> files = Files.list(work)) {
            for (Path p : files.filter(p -> p.getFileName().toString().startsWith("server.log")
                    || p.getFileName().toString().equals("console.log")).toList()) {
                all.append(Files.readString(p));
            }
        }
        String log = all.toString();
        if (log.contains("Boot Command") && log.matches("(?s).*Boot Command \\S+ failed.*")) {
            throw new IllegalStateException("a Payara Micro boot command failed; see " + work);
        }
    }

    /** A war with the benchmark's web classes, no libraries (pgjdbc comes from --addlibs). */
    static Path buildWar(Path classes, Path war) throws IOException {
        Path web = classes.resolve("dev/proxyra/bench/web");
        try (OutputStream out = Files.newOutputStream(war); ZipOutputStream zip = new ZipOutputStream(out);
             Stream<Path> files = Files.list(web)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".class")).sorted().toList()) {
                zip.putNextEntry(new ZipEntry("WEB-INF/classes/dev/proxyra/bench/web/" + f.getFileName()));
                Files.copy(f, zip);
                zip.closeEntry();
            }
            zip.putNextEntry(new ZipEntry("WEB-INF/web.xml"));
            zip.write(WEB_XML.getBytes(StandardCharsets.UTF_8));
            zip.closeEntry();
        }
        return war;
    }

    private static final String WEB_XML = """
            <?xml version="1.0" encoding="UTF-8"?>
            <web-app xmlns="https://jakarta.ee/xml/ns/jakartaee" version="6.0">
              <security-constraint>
                <web-resource-collection>
                  <web-resource-name>signed-in</web-resource-name>
                  <url-pattern>/*</url-pattern>
                </web-resource-collection>
                <auth-constraint>
                  <role-name>**</role-name>
                </auth-constraint>
              </security-constraint>
            </web-app>
            """;

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static String require(String property) {
        String v = System.getProperty(property);
        if (v == null || v.isBlank()) {
            throw new IllegalArgumentException("system property " + property + " is not set (run through -Pload)");
        }
        return v;
    }

    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    /** A growable long array: latencies without boxing. */
    static final class LongList {
        private long[] values = new long[4096];
        private int size;

        void add(long v) {
            if (size == values.length) {
                values = java.util.Arrays.copyOf(values, size * 2);
            }
            values[size++] = v;
        }

        long[] toArray() {
            return java.util.Arrays.copyOf(values, size);
        }
    }
}
