package dev.proxyra.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/** Everything one run measured, the ratios derived from it, and the JSON it is stored as. */
public final class Results {
    private final Map<String, String> environment;
    private final Map<String, String> settings;
    private final List<Measurement> measurements;
    private final List<Measurement> clientSide;
    private final List<Interleaved.Slice> slices;
    private final HeapProbe.Result heap;

    public Results(Map<String, String> environment, Map<String, String> settings, List<Measurement> measurements,
            List<Measurement> clientSide, List<Interleaved.Slice> slices, HeapProbe.Result heap) {
        this.environment = new LinkedHashMap<>(environment);
        this.settings = new LinkedHashMap<>(settings);
        this.measurements = List.copyOf(measurements);
        this.clientSide = List.copyOf(clientSide);
        this.slices = List.copyOf(slices);
        this.heap = heap;
    }

    /** The interleaved run's slices (empty when it did not run). */
    public List<Interleaved.Slice> slices() {
        return slices;
    }

    /** The ratios from the interleaved run: medians of per-round ratios, robust to background load. */
    public List<Interleaved.PairedRatio> pairedRatios() {
        List<Interleaved.PairedRatio> out = new ArrayList<>();
        for (int t : slices.stream().map(Interleaved.Slice::threads).distinct().sorted().toList()) {
            for (Scenario[] p : RATIO_PAIRS) {
                Interleaved.PairedRatio r = Interleaved.ratio(slices, p[0], p[1], t);
                if (r != null) {
                    out.add(r);
                }
            }
        }
        return out;
    }

    static final Scenario[][] RATIO_PAIRS = {
        {Scenario.PROXYRA_SAME, Scenario.UCP_LABELLED}, {Scenario.PROXYRA_SAME_SCAN, Scenario.UCP_LABELLED},
        {Scenario.PROXYRA_SWITCH, Scenario.PROXYRA_SAME}, {Scenario.PROXYRA_SWITCH, Scenario.UCP_SET_ROLE},
        {Scenario.NEW_CONNECTION, Scenario.PROXYRA_SAME}, {Scenario.NEW_CONNECTION, Scenario.PROXYRA_SWITCH}};

    /** The same scenarios over the in-memory fake driver (AdapterOverheadBenchmark): the client's cost alone. */
    public List<Measurement> clientSide() {
        return clientSide;
    }

    public Optional<Measurement> findClientSide(Scenario s, int threads) {
        return clientSide.stream().filter(m -> m.scenario() == s && m.threads() == threads).findFirst();
    }

    /** Client-side ratios: a/c is the adapter's CPU overhead over raw labelled UCP with no database in the way. */
    public List<Ratio> clientSideRatios() {
        List<Ratio> out = new ArrayList<>();
        for (int t : clientSide.stream().map(Measurement::threads).distinct().sorted().toList()) {
            for (Scenario[] pair : new Scenario[][] {{Scenario.PROXYRA_SAME, Scenario.UCP_LABELLED},
                    {Scenario.PROXYRA_SAME_SCAN, Scenario.UCP_LABELLED}, {Scenario.PROXYRA_SWITCH, Scenario.PROXYRA_SAME},
                    {Scenario.PROXYRA_SWITCH, Scenario.UCP_SET_ROLE}}) {
                Optional<Measurement> n = findClientSide(pair[0], t);
                Optional<Measurement> d = findClientSide(pair[1], t);
                if (n.isPresent() && d.isPresent()) {
                    out.add(Ratio.of("client side only (in-memory driver)", n.get(), d.get(), null, null));
                }
            }
        }
        return out;
    }

    public List<Measurement> measurements() {
        return measurements;
    }

    public HeapProbe.Result heap() {
        return heap;
    }

    public Map<String, String> environment() {
        return environment;
    }

    public Optional<Measurement> find(Scenario s, int threads) {
        return measurements.stream().filter(m -> m.scenario() == s && m.threads() == threads).findFirst();
    }

    public List<Integer> threadCounts() {
        return measurements.stream().map(Measurement::threads).distinct().sorted().toList();
    }

    /** The ratios the issue asks for, for every thread count where both sides were measured. */
    public List<Ratio> ratios() {
        List<Ratio> out = new ArrayList<>();
        for (int t : threadCounts()) {
            add(out, t, Scenario.PROXYRA_SAME, Scenario.UCP_LABELLED,
                    "adapter overhead over raw labelled UCP, same caller", 1.10, "max");
            add(out, t, Scenario.PROXYRA_SAME_SCAN, Scenario.UCP_LABELLED,
                    "the same with IdentityCheck=SCAN (no check round trip)", 1.10, "max");
            add(out, t, Scenario.PROXYRA_SWITCH, Scenario.PROXYRA_SAME,
                    "cost of an identity switch on every borrow", null, null);
            add(out, t, Scenario.PROXYRA_SWITCH, Scenario.UCP_SET_ROLE,
                    "proxyra switching every borrow vs SET/RESET ROLE by hand on raw UCP", null, null);
            add(out, t, Scenario.NEW_CONNECTION, Scenario.PROXYRA_SAME,
                    "a new login per request vs proxyra (how many times slower)", 20.0, "min");
            add(out, t, Scenario.NEW_CONNECTION, Scenario.PROXYRA_SWITCH,
                    "a new login per request vs proxyra switching every borrow", null, null);
        }
        return out;
    }

    private void add(List<Ratio> out, int threads, Scenario num, Scenario den, String meaning, Double target,
            String kind) {
        Optional<Measurement> n = find(num, threads);
        Optional<Measurement> d = find(den, threads);
        if (n.isPresent() && d.isPresent()) {
            out.add(Ratio.of(meaning, n.get(), d.get(), target, kind));
        }
    }

    // ---- JSON (flat and hand-written: no dependency for thirty lines) ----

    public String toJson() {
        StringBuilder sb = new StringBuilder("{\n");
        sb.append("  \"environment\": ").append(object(environment, "  ")).append(",\n");
        sb.append("  \"settings\": ").append(object(settings, "  ")).append(",\n");
        sb.append("  \"definitions\": {\n");
        for (Scenario s : Scenario.values()) {
            sb.append("    ").append(str(s.id())).append(": ").append(str(s.label()))
                    .append(s.ordinal() + 1 < Scenario.values().length ? ",\n" : "\n");
        }
        sb.append("  },\n");
        sb.append("  \"measurements\": ");
        measurementsJson(sb, measurements);
        sb.append(",\n");
        sb.append("  \"ratios\": ");
        ratiosJson(sb, ratios());
        sb.append(",\n");
        sb.append("  \"clientSideMeasurements\": ");
        measurementsJson(sb, clientSide);
        sb.append(",\n");
        sb.append("  \"clientSideRatios\": ");
        ratiosJson(sb, clientSideRatios());
        sb.append(",\n  \"interleaved\": {\"method\": ").append(str("all scenarios open at once, short slices in a"
                + " new random order each round; per-round time ratios; median and interquartile range over rounds"))
                .append(",\n    \"medianOpsPerSecond\": [\n");
        List<String> rows = new ArrayList<>();
        for (int t : slices.stream().map(Interleaved.Slice::threads).distinct().sorted().toList()) {
            for (Scenario s : Scenario.values()) {
                double m = Interleaved.medianOpsPerSecond(slices, s, t);
                if (!Double.isNaN(m)) {
                    rows.add("      {\"scenario\": " + str(s.id()) + ", \"threads\": " + t + ", \"opsPerSecond\": "
                            + num(m) + ", \"microsPerOpPerThread\": " + num(t * 1e6 / m) + "}");
                }
            }
        }
        sb.append(String.join(",\n", rows)).append("\n    ],\n    \"ratios\": [\n");
        rows.clear();
        for (Interleaved.PairedRatio r : pairedRatios()) {
            rows.add("      {\"ratio\": " + str(r.name()) + ", \"threads\": " + r.threads() + ", \"median\": "
                    + num(r.median()) + ", \"p25\": " + num(r.p25()) + ", \"p75\": " + num(r.p75())
                    + ", \"rounds\": " + r.rounds() + "}");
        }
        sb.append(String.join(",\n", rows)).append("\n    ]\n  }");
        if (heap != null) {
            sb.append(",\n  \"heap\": {\"physicalConnections\": ").append(heap.connections())
                    .append(", \"rounds\": ").append(heap.rounds())
                    .append(", \"rawUcpBytesPerPooledConnection\": ").append(num(heap.ucpPerConnection()))
                    .append(", \"proxyraBytesPerPooledConnection\": ").append(num(heap.proxyraPerConnection()))
                    .append(", \"adapterBytesPerPooledConnection\": ").append(num(heap.adapterPerConnection()))
                    .append(", \"adapterBytesPerPooledConnectionMin\": ").append(num(heap.adapterPerConnectionMin()))
                    .append(", \"adapterBytesPerPooledConnectionMax\": ").append(num(heap.adapterPerConnectionMax()))
                    .append(", \"managedConnectionShellBytes\": ").append(heap.managedConnectionShell())
                    .append('}');
        }
        sb.append("\n}\n");
        return sb.toString();
    }

    private static void measurementsJson(StringBuilder sb, List<Measurement> measurements) {
        sb.append("[\n");
        for (int i = 0; i < measurements.size(); i++) {
            Measurement m = measurements.get(i);
            sb.append("    {\"scenario\": ").append(str(m.scenario().id()))
                    .append(", \"label\": ").append(str(m.scenario().label()))
                    .append(", \"threads\": ").append(m.threads())
                    .append(", \"opsPerSecond\": ").append(num(m.opsPerSecond()))
                    .append(", \"opsPerSecondError999\": ").append(num(m.opsPerSecondError()))
                    .append(", \"microsPerOpPerThread\": ").append(num(m.microsPerOp()))
                    .append(", \"microsPerOpError999\": ").append(num(m.microsPerOpError()))
                    .append(", \"samples\": ").append(m.samples())
                    .append(", \"allocatedBytesPerOp\": ").append(num(m.bytesPerOp()))
                    .append(", \"allocatedBytesPerOpError999\": ").append(num(m.bytesPerOpError()))
                    .append(", \"clientCpuMicrosPerOp\": ").append(num(m.cpuMicrosPerOp()))
                    .append(", \"clientCpuMicrosPerOpError999\": ").append(num(m.cpuMicrosPerOpError()))
                    .append('}').append(i + 1 < measurements.size() ? ",\n" : "\n");
        }
        sb.append("  ]");
    }

    private static void ratiosJson(StringBuilder sb, List<Ratio> ratios) {
        sb.append("[\n");
        for (int i = 0; i < ratios.size(); i++) {
            Ratio r = ratios.get(i);
            sb.append("    {\"ratio\": ").append(str(r.name()))
                    .append(", \"threads\": ").append(r.threads())
                    .append(", \"value\": ").append(num(r.value()))
                    .append(", \"error\": ").append(num(r.error()))
                    .append(", \"target\": ").append(r.target() == null ? "null"
                            : str(("max".equals(r.targetKind()) ? "<= " : ">= ") + r.target()))
                    .append(", \"targetMet\": ").append(r.targetMet())
                    .append(", \"meaning\": ").append(str(r.meaning()))
                    .append('}').append(i + 1 < ratios.size() ? ",\n" : "\n");
        }
        sb.append("  ]");
    }

    /** The same figures as tables, for docs/benchmarks/results.md. */
    public String toMarkdown() {
        StringBuilder sb = new StringBuilder("# proxyra microbenchmark results\n\n");
        sb.append("Generated by `BenchmarkMain` (see README.md here for the method). ");
        environment.forEach((k, v) -> sb.append(k).append(": ").append(v).append("; "));
        sb.append("\n\nSettings: ");
        settings.forEach((k, v) -> sb.append(k).append(" = ").append(v).append("; "));
        sb.append("\n\n## JMH: borrow + `select current_user` + close\n\n");
        sb.append("| scenario | threads | borrows/s (±99.9% CI) | µs per borrow per thread | client CPU µs/borrow | bytes allocated/borrow |\n");
        sb.append("|---|---:|---:|---:|---:|---:|\n");
        for (Measurement m : measurements) {
            sb.append(String.format(Locale.ROOT, "| (%s) %s | %d | %,.0f ± %,.0f | %,.1f ± %,.1f | %s | %,.0f |%n",
                    m.scenario().id(), m.scenario().label(), m.threads(), m.opsPerSecond(), m.opsPerSecondError(),
                    m.microsPerOp(), m.microsPerOpError(),
                    Double.isNaN(m.cpuMicrosPerOp()) ? "–" : String.format(Locale.ROOT, "%,.1f ± %,.1f",
                            m.cpuMicrosPerOp(), m.cpuMicrosPerOpError()), m.bytesPerOp()));
        }
        if (!slices.isEmpty()) {
            sb.append("\n## Interleaved run: ratios of time per borrow (median of per-round ratios, interquartile range)\n\n");
            sb.append("| ratio | threads | median | IQR | rounds |\n|---|---:|---:|---:|---:|\n");
            for (Interleaved.PairedRatio r : pairedRatios()) {
                sb.append(String.format(Locale.ROOT, "| %s | %d | %.2f | %.2f – %.2f | %d |%n", r.name(), r.threads(),
                        r.median(), r.p25(), r.p75(), r.rounds()));
            }
            sb.append("\n| scenario | threads | median borrows/s |\n|---|---:|---:|\n");
            for (int t : slices.stream().map(Interleaved.Slice::threads).distinct().sorted().toList()) {
                for (Scenario s : Scenario.values()) {
                    double m = Interleaved.medianOpsPerSecond(slices, s, t);
                    if (!Double.isNaN(m)) {
                        sb.append(String.format(Locale.ROOT, "| (%s) %s | %d | %,.0f |%n", s.id(), s.label(), t, m));
                    }
                }
            }
        }
        sb.append("\n## JMH ratios (same run; error: the two 99.9% CIs combined)\n\n");
        sb.append("| ratio | threads | value | target |\n|---|---:|---:|---|\n");
        for (Ratio r : ratios()) {
            sb.append(String.format(Locale.ROOT, "| %s | %d | %.2f ± %.2f | %s |%n", r.name(), r.threads(), r.value(),
                    r.error(), r.target() == null ? "" : ("max".equals(r.targetKind()) ? "≤ " : "≥ ") + r.target()
                            + (Boolean.TRUE.equals(r.targetMet()) ? " (met)" : " (not met)")));
        }
        if (!clientSide.isEmpty()) {
            sb.append("\n## Client side only (UCP + adapter over an in-memory driver, 1 thread)\n\n");
            sb.append("| scenario | µs per borrow (±99.9% CI) | bytes allocated/borrow |\n|---|---:|---:|\n");
            for (Measurement m : clientSide) {
                sb.append(String.format(Locale.ROOT, "| (%s) %s | %.2f ± %.2f | %,.0f |%n", m.scenario().id(),
                        m.scenario().label(), m.microsPerOp(), m.microsPerOpError(), m.bytesPerOp()));
            }
        }
        if (heap != null) {
            sb.append(String.format(Locale.ROOT, "%n## Heap%n%nPer pooled physical connection (%d idle, each labelled with"
                    + " its own caller, %d rounds): raw UCP %,.0f B, proxyra %,.0f B, adapter's share %+,.0f B (rounds"
                    + " %+,.0f … %+,.0f B). One managed-connection shell (what the server pools): %d B (JOL).%n",
                    heap.connections(), heap.rounds(), heap.ucpPerConnection(), heap.proxyraPerConnection(),
                    heap.adapterPerConnection(), heap.adapterPerConnectionMin(), heap.adapterPerConnectionMax(),
                    heap.managedConnectionShell()));
        }
        return sb.toString();
    }

    public void writeJson(Path file) throws IOException {
        Files.writeString(file, toJson(), StandardCharsets.UTF_8);
    }

    private static String object(Map<String, String> map, String indent) {
        StringBuilder sb = new StringBuilder("{\n");
        int i = 0;
        for (Map.Entry<String, String> e : map.entrySet()) {
            sb.append(indent).append("  ").append(str(e.getKey())).append(": ").append(str(e.getValue()))
                    .append(++i < map.size() ? ",\n" : "\n");
        }
        return sb.append(indent).append('}').toString();
    }

    static String num(double d) {
        if (Double.isNaN(d) || Double.isInfinite(d)) {
            return "null";
        }
        return String.format(Locale.ROOT, d >= 100 || d <= -100 ? "%.1f" : "%.4f", d);
    }

    static String str(String s) {
        if (s == null) {
            return "null";
        }
        StringBuilder sb = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\t' -> sb.append("\\t");
                case '\r' -> sb.append("\\r");
                default -> {
                    if (c < 0x20) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        return sb.append('"').toString();
    }
}
