package dev.proxyra.bench.load;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.zip.ZipFile;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The load test's arithmetic and packaging, without Payara. */
class LoadHelpersTest {

    @Test
    void zipfSkewsTowardsTheFirstRanks() {
        Zipf zipf = new Zipf(100, 1.0);
        // harmonic number H(100) = 5.187...: rank 0 gets 1/H of the draws
        assertThat(zipf.share(0)).isCloseTo(1 / 5.1874, within(1e-3));
        int[] counts = new int[100];
        SplittableRandom r = new SplittableRandom(1);
        for (int i = 0; i < 200_000; i++) {
            counts[zipf.sample(r)]++;
        }
        assertThat(counts[0] / 200_000.0).isCloseTo(zipf.share(0), within(0.01));
        assertThat(counts[0]).isGreaterThan(counts[1]).isGreaterThan(counts[99] * 20);
        assertThat(counts[99]).isPositive();
    }

    @Test
    void percentilesAreNearestRank() {
        long[] ms = new long[100];
        for (int i = 0; i < 100; i++) {
            ms[i] = (i + 1) * 1_000_000L;
        }
        LoadRound r = LoadRound.of("who", "proxyra", 1, 4, 2.0, ms, 3);
        assertThat(r.p50Millis()).isEqualTo(50.0);
        assertThat(r.p99Millis()).isEqualTo(99.0);
        assertThat(r.requestsPerSecond()).isEqualTo(50.0);
        assertThat(r.errors()).isEqualTo(3);
    }

    @Test
    void ratiosArePairedByRound(@TempDir Path dir) throws Exception {
        List<LoadRound> rounds = List.of(
                new LoadRound("order", "proxyra", 1, 16, 10, 9000, 0, 900, 10, 30, 11, null),
                new LoadRound("order", "shared", 1, 16, 10, 10000, 0, 1000, 9, 25, 10, null),
                new LoadRound("order", "login", 1, 16, 10, 300, 0, 30, 400, 600, 420, null),
                new LoadRound("order", "proxyra", 2, 16, 10, 3500, 0, 350, 20, 60, 21, null),
                new LoadRound("order", "shared", 2, 16, 10, 5000, 0, 500, 18, 50, 19, null),
                new LoadRound("order", "login", 2, 16, 10, 200, 0, 20, 500, 700, 520, null),
                // the worst case, paired separately and without a target
                new LoadRound("who", "proxyra", 1, 16, 10, 20000, 0, 2000, 5, 15, 6, null),
                new LoadRound("who", "shared", 1, 16, 10, 25000, 0, 2500, 4, 12, 5, null));
        LoadReport report = new LoadReport(Map.of("setup", "test"), rounds);
        LoadReport.PairedRatio r12 = report.ratios().get(0);
        assertThat(r12.min()).isCloseTo(0.7, within(1e-9));
        assertThat(r12.max()).isCloseTo(0.9, within(1e-9));
        assertThat(r12.mean()).isCloseTo(0.8, within(1e-9));
        assertThat(r12.target()).isEqualTo(0.85);
        assertThat(r12.met()).isFalse();
        assertThat(report.ratios().get(1).mean()).isCloseTo(23.75, within(1e-9));
        // no round of resource (4): its ratios are left out rather than made up
        assertThat(report.ratios()).extracting(LoadReport.PairedRatio::name).doesNotContain("order (1)/(4)");
        LoadReport.PairedRatio worst = report.ratios("who").get(0);
        assertThat(worst.mean()).isCloseTo(0.8, within(1e-9));
        assertThat(worst.target()).isNull();
        assertThat(report.toJson()).contains("\"ratio\": \"order (1)/(2)\"").contains("\"workload\": \"who\"");
        assertThat(report.toMarkdown()).contains("## realistic request").contains("## worst case");
        Path png = dir.resolve("load.png");
        System.setProperty("java.awt.headless", "true");
        report.renderChart(png);
        assertThat(Files.size(png)).isPositive();
    }

    @Test
    void theWarHoldsTheWebClassesAndASecurityConstraint(@TempDir Path dir) throws Exception {
        Path classes = Path.of(dev.proxyra.bench.web.WhoServlet.class.getProtectionDomain().getCodeSource()
                .getLocation().toURI());
        Path war = LoadMain.buildWar(classes, dir.resolve("bench.war"));
        try (ZipFile zip = new ZipFile(war.toFile())) {
            assertThat(zip.getEntry("WEB-INF/classes/dev/proxyra/bench/web/WhoServlet.class")).isNotNull();
            assertThat(zip.getEntry("WEB-INF/classes/dev/proxyra/bench/web/BenchCallers.class")).isNotNull();
            assertThat(new String(zip.getInputStream(zip.getEntry("WEB-INF/web.xml")).readAllBytes()))
                    .contains("<role-name>**</role-name>");
        }
    }

    @Test
    void poolCommandsEscapeTheUrlAndKeepThePasswordOutOfTheFile() {
        List<String> commands = LoadMain.postBootCommands(Path.of("/x/proxyra.rar"),
                "jdbc:postgresql://127.0.0.1:5432/postgres", 10);
        assertThat(commands.get(1)).contains("URL=jdbc\\:postgresql\\://127.0.0.1\\:5432/postgres:User=app_proxy:MaxPoolSize=10");
        assertThat(commands.get(5)).contains("user=bench_shared:password=${ENV\\=PROXYRA_PASSWORD}")
                .doesNotContain("proxy-secret");
        assertThat(commands.get(3)).contains(":IdentityCheck=SCAN:PoolName=proxyra-scan proxyra-scan-pool");
        assertThat(commands.get(1)).contains(":PoolName=proxyra proxyra-pool"); // the pool counters are read by name
        // (4): Payara's own pool logged in as the proxy account, its password from the environment too
        assertThat(commands.get(7)).contains("user=app_proxy:password=${ENV\\=PROXYRA_PASSWORD}").endsWith(" set-role-pool")
                .doesNotContain("proxy-secret");
        assertThat(commands.get(8)).isEqualTo("create-jdbc-resource --connectionpoolid set-role-pool jdbc/set-role");
    }

    @Test
    void borrowSharesAreTheDifferenceOfTheCountersAroundARound() {
        long[] during = LoadMain.minus(new long[] {130, 970, 12}, new long[] {100, 400, 2});
        assertThat(during).containsExactly(30, 570, 10);
        assertThat(LoadMain.plus(during, new long[] {70, 330, 0})).containsExactly(100, 900, 10);
        assertThat(LoadMain.borrowShares(new long[] {100, 890, 10}))
                .isEqualTo("1,000 borrows: 10% warm (the caller's own session), 89% identity switch,"
                        + " 1.0% new physical connection");
    }

    @Test
    void cpuTicksAreReadAfterTheCommandNameWhateverItHolds() {
        // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime ...
        String stat = "4242 (post) gres: x (y)) S 1 2 3 4 5 6 7 8 9 10 111 22 3000 400 20 0 1 0 5 6 7\n";
        assertThat(CpuMeter.ticks(stat, false)).isEqualTo(133);
        assertThat(CpuMeter.ticks(stat, true)).isEqualTo(3533);
        assertThat(CpuMeter.ticks(Long.MAX_VALUE, true)).isZero(); // no such process: it used nothing more
    }

    @Test
    void cpuIsReportedPerRequestOfTheMeasuredWindow() {
        CpuMeter.Sample used = new CpuMeter.Sample(3_000_000_000L, 1_500_000_000L, 500_000_000L)
                .minus(new CpuMeter.Sample(1_000_000_000L, 500_000_000L, 0));
        LoadRound r = LoadRound.of("order", "proxyra", 1, 4, 10.0, new long[1000], 0, LoadRound.CpuPerRequest.of(used, 1000));
        assertThat(r.cpu().serverMillis()).isCloseTo(2.0, within(1e-9));
        assertThat(r.cpu().databaseMillis()).isCloseTo(1.0, within(1e-9));
        assertThat(r.cpu().clientMillis()).isCloseTo(0.5, within(1e-9));
        assertThat(r.cpu().totalMillis()).isCloseTo(3.5, within(1e-9));
        LoadRound other = LoadRound.of("order", "proxyra", 2, 4, 10.0, new long[500], 0, LoadRound.CpuPerRequest.of(used, 500));
        LoadReport report = new LoadReport(Map.of(), List.of(r, other));
        assertThat(report.meanCpu("order", "proxyra").serverMillis()).isCloseTo(3.0, within(1e-9));
        assertThat(report.meanCpu("order", "shared")).isNull();
        assertThat(report.toMarkdown()).contains("| (1) proxyra (each caller's own role) | 3.000 | 1.500 | 0.750 | 5.250 |");
        assertThat(report.toJson()).contains("\"cpuMillisPerRequest\": {\"server\": 2.0000, \"database\": 1.0000");
    }

    @Test
    void theDatabaseCostIsReportedAgainstTheSharedAccountsLine() {
        LoadReport report = new LoadReport(Map.of(), List.of(), List.of(new DatabaseCost.Line("(2) shared", 0.1),
                new DatabaseCost.Line("(1) switch", 0.25)));
        assertThat(report.toMarkdown()).contains("| (2) shared | 0.100 | 1.00× |").contains("| (1) switch | 0.250 | 2.50× |");
        assertThat(report.toJson()).contains("{\"what\": \"(1) switch\", \"backendMillis\": 0.2500}");
    }

    @Test
    void thisMachinesProcCountsTheCpuOfAProcessInHundredthsOfASecond() {
        var threads = java.lang.management.ManagementFactory.getThreadMXBean();
        var os = (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        assumeTrue(threads.isCurrentThreadCpuTimeSupported() && os.getProcessCpuTime() >= 0);
        long pid = ProcessHandle.current().pid();
        long ticksBefore = CpuMeter.ticks(pid, false);
        long processBefore = os.getProcessCpuTime();
        long cpuFrom = threads.getCurrentThreadCpuTime();
        double x = 0;
        while (threads.getCurrentThreadCpuTime() - cpuFrom < 200_000_000L) { // 200 ms of this thread's CPU
            x += Math.sqrt(x + 1);
        }
        long ticks = CpuMeter.ticks(pid, false) - ticksBefore;
        long process = os.getProcessCpuTime() - processBefore;
        assertThat(x).isPositive();
        // the JVM's own count of the process's CPU, in nanoseconds, against /proc's ticks: a wrong tick size is off
        // by a factor, the tick's granularity by at most a few ticks
        assertThat(ticks * CpuMeter.NANOS_PER_TICK).isBetween(process - 30_000_000L, process + 30_000_000L);
        assertThat(process).isGreaterThanOrEqualTo(200_000_000L);
    }

    @Test
    void aDatabaseCostWithoutTheSharedAccountsFigureHasNoRatio() {
        LoadReport report = new LoadReport(Map.of(), List.of(), List.of(new DatabaseCost.Line("(2) shared", 0),
                new DatabaseCost.Line("(1) switch", 0.25)));
        assertThat(report.toMarkdown()).contains("| (1) switch | 0.250 | – |").doesNotContain("Infinity").doesNotContain("∞");
    }
}
