package dev.proxyra.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import dev.proxyra.testing.Database;

/**
 * The harness measures what it claims: every scenario really runs as the caller it is given, the
 * switching scenarios really switch, and the probes and the chart work. No timings are asserted.
 */
class WorkloadsTest {
    private static Database db;

    @BeforeAll
    static void start() throws Exception {
        db = Database.embedded().passwordLogins().start();
    }

    @AfterAll
    static void stop() throws Exception {
        if (db != null) {
            db.close();
        }
    }

    @ParameterizedTest
    @EnumSource(Scenario.class)
    void everyScenarioRunsAsTheCallerOfEachBorrow(Scenario scenario) throws Exception {
        try (Workload w = Workloads.open(scenario, db.url(), 2)) {
            for (int thread = 0; thread < 2; thread++) {
                for (long seq = 0; seq < 5; seq++) {
                    String caller = Callers.forBorrow(scenario, thread, seq);
                    assertThat(w.borrowAndQuery(caller)).isEqualTo(caller);
                }
            }
            if (w instanceof Workloads.Proxyra proxyra) {
                assertThat(proxyra.discarded()).as("sessions discarded").isZero();
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = Scenario.class, names = "NEW_CONNECTION", mode = EnumSource.Mode.EXCLUDE)
    void theInMemoryDriverAnswersAsTheCallerToo(Scenario scenario) throws Exception {
        try (Workload w = Workloads.open(scenario, AdapterOverheadBenchmark.FAKE_URL, 2,
                dev.proxyra.testing.fakepg.FakePgDataSource.class.getName())) {
            for (long seq = 0; seq < 5; seq++) {
                String caller = Callers.forBorrow(scenario, 0, seq);
                assertThat(w.borrowAndQuery(caller)).isEqualTo(caller);
            }
            if (w instanceof Workloads.Proxyra proxyra) {
                // the fake speaks what the adapter sends: no session is thrown away and opened again
                assertThat(proxyra.discarded()).as("sessions discarded over the in-memory driver").isZero();
            }
        }
    }

    @Test
    void aLoginIsAPasswordCheckAsOnARealServer() {
        // Otherwise (e) and the login-per-request resource would measure a login no real server offers.
        assertThatThrownBy(() -> db.connectAs(Database.PROXY_USER, "wrong"))
                .isInstanceOfSatisfying(java.sql.SQLException.class,
                        e -> assertThat(e.getSQLState()).isEqualTo("28P01"));
    }

    @Test
    void callersChangeOnEveryBorrowOnlyWhereTheScenarioSaysSo() {
        assertThat(Callers.forBorrow(Scenario.PROXYRA_SAME, 3, 7)).isEqualTo(Callers.SAME);
        assertThat(Callers.forBorrow(Scenario.UCP_LABELLED, 0, 99)).isEqualTo(Callers.SAME);
        assertThat(Callers.forBorrow(Scenario.PROXYRA_SWITCH, 0, 0)).isEqualTo("caller001");
        assertThat(Callers.forBorrow(Scenario.PROXYRA_SWITCH, 0, 1)).isEqualTo("caller002");
        assertThat(Callers.forBorrow(Scenario.PROXYRA_SWITCH, 1, 0)).isEqualTo("caller026");
        assertThat(Callers.forBorrow(Scenario.PROXYRA_SWITCH, 0, 200)).isEqualTo("caller001");
    }

    @Test
    void proxyraSwitchesOnEveryBorrowOnlyWhenTheCallerChanges() throws Exception {
        var mcf = Workloads.Proxyra.factory(db.url(), 2);
        try {
            var ds = (javax.sql.DataSource) mcf.createConnectionFactory();
            for (int i = 0; i < 10; i++) {
                dev.proxyra.testing.TestCallers.set(Callers.SAME);
                try (var c = ds.getConnection()) {
                    c.isValid(1);
                }
            }
            assertThat(mcf.pool().identitySwitches()).isEqualTo(1);
            for (int i = 0; i < 10; i++) {
                dev.proxyra.testing.TestCallers.set(Callers.forBorrow(Scenario.PROXYRA_SWITCH, 0, i));
                try (var c = ds.getConnection()) {
                    c.isValid(1);
                }
            }
            assertThat(mcf.pool().identitySwitches()).isEqualTo(11);
        } finally {
            dev.proxyra.testing.TestCallers.set(null);
            mcf.close();
        }
    }

    @Test
    void theInterleavedRunMeasuresEveryScenarioInEveryRound() throws Exception {
        List<Scenario> scenarios = List.of(Scenario.PROXYRA_SAME, Scenario.UCP_LABELLED, Scenario.PROXYRA_SWITCH);
        List<Interleaved.Slice> slices = Interleaved.run(scenarios, db.url(), 2, 1, 2, 50, 7);
        assertThat(slices).hasSize(6).allSatisfy(s -> assertThat(s.ops()).isPositive());
        assertThat(Interleaved.ratio(slices, Scenario.PROXYRA_SAME, Scenario.UCP_LABELLED, 2).rounds()).isEqualTo(2);
    }

    @Test
    void heapProbeAndShellSizeGivePlausibleFigures() throws Exception {
        long ucp = HeapProbe.ucpRound(db.url(), 4);
        long proxyra = HeapProbe.proxyraRound(db.url(), 4);
        assertThat(ucp).isPositive();
        assertThat(proxyra).isPositive();
        assertThat(HeapProbe.managedConnectionShell(db.url())).isBetween(64L, 64L * 1024);
    }

    @Test
    void resultsGiveRatiosJsonAndAChart(@TempDir Path dir) throws Exception {
        List<Measurement> ms = List.of(
                new Measurement(Scenario.PROXYRA_SAME, 1, 9_000, 300, 6, 3000, 10, 50, 2),
                new Measurement(Scenario.UCP_LABELLED, 1, 10_000, 200, 6, 2000, 10, 50, 2),
                new Measurement(Scenario.PROXYRA_SWITCH, 1, 7_000, 100, 6, 3500, 10, 50, 2),
                new Measurement(Scenario.NEW_CONNECTION, 1, 100, 5, 6, 90_000, 100, 50, 2),
                new Measurement(Scenario.PROXYRA_SAME, 8, 20_000, 900, 6, 3000, 10, 50, 2),
                new Measurement(Scenario.UCP_LABELLED, 8, 25_000, 800, 6, 2000, 10, 50, 2));
        List<Measurement> client = List.of(
                new Measurement(Scenario.PROXYRA_SAME, 1, 200_000, 3000, 6, 21_000, 2, Double.NaN, Double.NaN),
                new Measurement(Scenario.UCP_LABELLED, 1, 250_000, 3000, 6, 18_000, 2, Double.NaN, Double.NaN));
        List<Interleaved.Slice> slices = new java.util.ArrayList<>();
        for (int round = 0; round < 5; round++) {
            slices.add(new Interleaved.Slice(Scenario.PROXYRA_SAME, 1, round, 100 + round, 10_000_000L));
            slices.add(new Interleaved.Slice(Scenario.UCP_LABELLED, 1, round, 110 + round, 10_000_000L));
        }
        Results results = new Results(java.util.Map.of("cpus", "2"), java.util.Map.of("forks", "1"), ms, client, slices,
                new HeapProbe.Result(100, 3, 20_000, 20_300, 300, 250, 350, 400));
        Interleaved.PairedRatio paired = results.pairedRatios().get(0);
        assertThat(paired.name()).isEqualTo("a/c");
        assertThat(paired.median()).isCloseTo(112.0 / 102, org.assertj.core.data.Offset.offset(1e-9));
        assertThat(paired.rounds()).isEqualTo(5);
        assertThat(results.toJson()).contains("\"interleaved\"");
        assertThat(results.clientSideRatios()).singleElement()
                .satisfies(r -> assertThat(r.value()).isCloseTo(1.25, org.assertj.core.data.Offset.offset(1e-9)));
        Ratio ac = results.ratios().stream().filter(r -> r.name().equals("a/c") && r.threads() == 1).findFirst()
                .orElseThrow();
        assertThat(ac.value()).isCloseTo(10_000.0 / 9_000, org.assertj.core.data.Offset.offset(1e-9));
        assertThat(ac.targetMet()).isFalse();
        Ratio ea = results.ratios().stream().filter(r -> r.name().equals("e/a")).findFirst().orElseThrow();
        assertThat(ea.value()).isEqualTo(90.0);
        assertThat(ea.targetMet()).isTrue();
        assertThat(results.ratios()).noneMatch(r -> r.name().equals("b/a") && r.threads() == 8);
        assertThat(Measurement.class.getRecordComponents()).isNotEmpty();
        assertThat(ms.get(4).microsPerOp()).isEqualTo(400.0);

        Path json = dir.resolve("results.json");
        results.writeJson(json);
        String text = Files.readString(json);
        assertThat(text).contains("\"ratio\": \"a/c\"").contains("\"adapterBytesPerPooledConnection\": 300.0");
        Path png = dir.resolve("chart.png");
        String keep = System.getProperty("bench.test.chart");
        System.setProperty("java.awt.headless", "true");
        Chart.render(results, png);
        assertThat(javax.imageio.ImageIO.read(png.toFile()).getWidth()).isEqualTo(1200);
        if (keep != null) {
            Files.copy(png, Path.of(keep), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
    }
}
