package dev.proxyra.bench.load;

import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import javax.imageio.ImageIO;

import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.style.Styler.LegendPosition;

import dev.proxyra.bench.Chart;

/**
 * The load test's rounds, their summary per workload and resource, the ratios from paired rounds, JSON and a chart.
 */
public final class LoadReport {
    /** The workloads, in the order they are reported: the realistic request first, the worst case second. */
    static final Map<String, String> WORKLOADS = new LinkedHashMap<>();

    static {
        WORKLOADS.put("order", "realistic request: read 5 own rows by index under row-level security, insert one, commit");
        WORKLOADS.put("who", "worst case: select current_user");
    }

    static final Map<String, String> LABELS = Map.of(
            "proxyra", "(1) proxyra (each caller's own role)",
            "proxyra-scan", "(1') proxyra, IdentityCheck=SCAN",
            "shared", "(2) Payara JDBC pool, one shared account",
            "login", "(3) new login per request",
            "set-role", "(4) Payara JDBC pool as the proxy account, SET ROLE by hand, no reset");

    private final Map<String, String> environment;
    private final List<LoadRound> rounds;
    private final List<DatabaseCost.Line> databaseCost;

    public LoadReport(Map<String, String> environment, List<LoadRound> rounds) {
        this(environment, rounds, List.of());
    }

    LoadReport(Map<String, String> environment, List<LoadRound> rounds, List<DatabaseCost.Line> databaseCost) {
        this.environment = new LinkedHashMap<>(environment);
        this.rounds = List.copyOf(rounds);
        this.databaseCost = List.copyOf(databaseCost);
    }

    /** Mean, min and max over the rounds of one resource. */
    public record Summary(String workload, String resource, double rps, double rpsMin, double rpsMax, double p50, double p99,
            double p99Max, long requests, long errors) {
    }

    /** A throughput ratio computed per round (same round, adjacent in time), then mean, min and max. */
    public record PairedRatio(String name, String meaning, double mean, double min, double max, Double target,
            boolean atLeast) {
        public Boolean met() {
            return target == null ? null : atLeast ? mean >= target : mean <= target;
        }
    }

    public List<Summary> summaries() {
        List<Summary> out = new ArrayList<>();
        for (String w : WORKLOADS.keySet()) {
            out.addAll(summaries(w));
        }
        return out;
    }

    public List<Summary> summaries(String workload) {
        List<Summary> out = new ArrayList<>();
        for (String r : LoadMain.RESOURCES) {
            List<LoadRound> mine = rounds.stream().filter(x -> x.workload().equals(workload) && x.resource().equals(r))
                    .toList();
            if (mine.isEmpty()) {
                continue;
            }
            out.add(new Summary(workload, r, mine.stream().mapToDouble(LoadRound::requestsPerSecond).average().orElse(Double.NaN),
                    mine.stream().mapToDouble(LoadRound::requestsPerSecond).min().orElse(Double.NaN),
                    mine.stream().mapToDouble(LoadRound::requestsPerSecond).max().orElse(Double.NaN),
                    mine.stream().mapToDouble(LoadRound::p50Millis).average().orElse(Double.NaN),
                    mine.stream().mapToDouble(LoadRound::p99Millis).average().orElse(Double.NaN),
                    mine.stream().mapToDouble(LoadRound::p99Millis).max().orElse(Double.NaN),
                    mine.stream().mapToLong(LoadRound::requests).sum(), mine.stream().mapToLong(LoadRound::errors).sum()));
        }
        return out;
    }

    /** The mean over the rounds of one resource's CPU per request; null when no round measured it. */
    LoadRound.CpuPerRequest meanCpu(String workload, String resource) {
        List<LoadRound.CpuPerRequest> c = rounds.stream().filter(x -> x.workload().equals(workload)
                && x.resource().equals(resource) && x.cpu() != null).map(LoadRound::cpu).toList();
        if (c.isEmpty()) {
            return null;
        }
        return new LoadRound.CpuPerRequest(c.stream().mapToDouble(LoadRound.CpuPerRequest::serverMillis).average().orElseThrow(),
                c.stream().mapToDouble(LoadRound.CpuPerRequest::databaseMillis).average().orElseThrow(),
                c.stream().mapToDouble(LoadRound.CpuPerRequest::clientMillis).average().orElseThrow());
    }

    public List<PairedRatio> ratios() {
        List<PairedRatio> out = new ArrayList<>();
        for (String w : WORKLOADS.keySet()) {
            out.addAll(ratios(w));
        }
        return out;
    }

    /** The targets hold for the realistic request; the worst case shows the floor, without a target. */
    public List<PairedRatio> ratios(String workload) {
        boolean realistic = workload.equals("order");
        List<PairedRatio> out = new ArrayList<>();
        // issue 23: at least 0.85 of the shared account on these 2 CPUs (it was 0.9 before the floor was measured)
        add(out, workload, workload + " (1)/(2)", "proxyra throughput vs the shared-account pool", "proxyra", "shared",
                realistic ? 0.85 : null, true);
        add(out, workload, workload + " (1)/(3)", "proxyra throughput vs a new login per request", "proxyra", "login",
                realistic ? 20.0 : null, true);
        add(out, workload, workload + " (1')/(2)", "proxyra with IdentityCheck=SCAN vs the shared-account pool",
                "proxyra-scan", "shared", realistic ? 0.85 : null, true);
        // issue 23's floor: what a hand-written SET ROLE per request costs (no check, no reset)
        add(out, workload, workload + " (1)/(4)", "proxyra throughput vs a hand-written SET ROLE per request",
                "proxyra", "set-role", realistic ? 0.95 : null, true);
        add(out, workload, workload + " (4)/(2)", "a hand-written SET ROLE per request vs the shared-account pool",
                "set-role", "shared", null, true);
        return out;
    }

    private void add(List<PairedRatio> out, String workload, String name, String meaning, String num, String den,
            Double target, boolean atLeast) {
        List<Double> values = new ArrayList<>();
        for (int r : rounds.stream().map(LoadRound::round).distinct().sorted().toList()) {
            var n = rounds.stream().filter(x -> x.round() == r && x.workload().equals(workload)
                    && x.resource().equals(num)).findFirst();
            var d = rounds.stream().filter(x -> x.round() == r && x.workload().equals(workload)
                    && x.resource().equals(den)).findFirst();
            if (n.isPresent() && d.isPresent() && d.get().requestsPerSecond() > 0) {
                values.add(n.get().requestsPerSecond() / d.get().requestsPerSecond());
            }
        }
        if (!values.isEmpty()) {
            out.add(new PairedRatio(name, meaning, values.stream().mapToDouble(Double::doubleValue).average().orElseThrow(),
                    values.stream().mapToDouble(Double::doubleValue).min().orElseThrow(),
                    values.stream().mapToDouble(Double::doubleValue).max().orElseThrow(), target, atLeast));
        }
    }

    public String toJson() {
        StringBuilder sb = new StringBuilder("{\n  \"environment\": {\n");
        int i = 0;
        for (var e : environment.entrySet()) {
            sb.append("    ").append(q(e.getKey())).append(": ").append(q(e.getValue()))
                    .append(++i < environment.size() ? ",\n" : "\n");
        }
        sb.append("  },\n  \"rounds\": [\n");
        for (int k = 0; k < rounds.size(); k++) {
            LoadRound r = rounds.get(k);
            sb.append(String.format(Locale.ROOT, "    {\"workload\": %s, \"resource\": %s, \"round\": %d, \"clients\": %d, \"seconds\": %.0f,"
                    + " \"requests\": %d, \"errors\": %d, \"requestsPerSecond\": %.1f, \"p50Millis\": %.3f,"
                    + " \"p99Millis\": %.3f, \"meanMillis\": %.3f%s}%s%n", q(r.workload()), q(r.resource()), r.round(), r.clients(),
                    r.seconds(), r.requests(), r.errors(), r.requestsPerSecond(), r.p50Millis(), r.p99Millis(),
                    r.meanMillis(), r.cpu() == null ? "" : String.format(Locale.ROOT, ", \"cpuMillisPerRequest\":"
                            + " {\"server\": %.4f, \"database\": %.4f, \"clients\": %.4f}", r.cpu().serverMillis(),
                            r.cpu().databaseMillis(), r.cpu().clientMillis()),
                    k + 1 < rounds.size() ? "," : ""));
        }
        sb.append("  ],\n  \"summary\": [\n");
        List<Summary> ss = summaries();
        for (int k = 0; k < ss.size(); k++) {
            Summary s = ss.get(k);
            sb.append(String.format(Locale.ROOT, "    {\"workload\": %s, \"resource\": %s, \"label\": %s, \"requestsPerSecond\": %.1f,"
                    + " \"requestsPerSecondMin\": %.1f, \"requestsPerSecondMax\": %.1f, \"p50Millis\": %.3f,"
                    + " \"p99Millis\": %.3f, \"p99MillisMax\": %.3f, \"requests\": %d, \"errors\": %d}%s%n",
                    q(s.workload()), q(s.resource()), q(LABELS.get(s.resource())), s.rps(), s.rpsMin(), s.rpsMax(), s.p50(), s.p99(),
                    s.p99Max(), s.requests(), s.errors(), k + 1 < ss.size() ? "," : ""));
        }
        sb.append("  ],\n  \"ratios\": [\n");
        List<PairedRatio> rs = ratios();
        for (int k = 0; k < rs.size(); k++) {
            PairedRatio r = rs.get(k);
            sb.append(String.format(Locale.ROOT, "    {\"ratio\": %s, \"meaning\": %s, \"mean\": %.3f, \"min\": %.3f,"
                    + " \"max\": %.3f, \"target\": %s, \"targetMet\": %s}%s%n", q(r.name()), q(r.meaning()), r.mean(),
                    r.min(), r.max(), r.target() == null ? "null" : q((r.atLeast() ? ">= " : "<= ") + r.target()),
                    r.met(), k + 1 < rs.size() ? "," : ""));
        }
        sb.append("  ],\n  \"databaseCpuMillisPerRequest\": [\n");
        for (int k = 0; k < databaseCost.size(); k++) {
            DatabaseCost.Line l = databaseCost.get(k);
            sb.append(String.format(Locale.ROOT, "    {\"what\": %s, \"backendMillis\": %.4f}%s%n", q(l.what()),
                    l.backendMillis(), k + 1 < databaseCost.size() ? "," : ""));
        }
        sb.append("  ]\n}\n");
        return sb.toString();
    }

    public String toMarkdown() {
        StringBuilder sb = new StringBuilder("# proxyra in-server load results (Payara Micro)\n\n");
        environment.forEach((k, v) -> sb.append("- ").append(k).append(": ").append(v).append("\n"));
        for (var w : WORKLOADS.entrySet()) {
            if (summaries(w.getKey()).isEmpty()) {
                continue;
            }
            sb.append("\n## ").append(w.getValue()).append("\n");
            sb.append("\n| resource | requests/s (mean; min – max over rounds) | p50 ms | p99 ms | requests | errors |\n");
            sb.append("|---|---:|---:|---:|---:|---:|\n");
            for (Summary s : summaries(w.getKey())) {
                sb.append(String.format(Locale.ROOT, "| %s | %,.0f (%,.0f – %,.0f) | %.1f | %.1f | %,d | %d |%n",
                        LABELS.get(s.resource()), s.rps(), s.rpsMin(), s.rpsMax(), s.p50(), s.p99(), s.requests(),
                        s.errors()));
            }
            List<String> cpuRows = new ArrayList<>();
            for (String r : LoadMain.RESOURCES) {
                LoadRound.CpuPerRequest c = meanCpu(w.getKey(), r);
                if (c != null) {
                    cpuRows.add(String.format(Locale.ROOT, "| %s | %.3f | %.3f | %.3f | %.3f |%n", LABELS.get(r),
                            c.serverMillis(), c.databaseMillis(), c.clientMillis(), c.totalMillis()));
                }
            }
            if (!cpuRows.isEmpty()) {
                sb.append("\n| CPU ms per request (mean of rounds) | server JVM | database | HTTP clients | all |\n")
                        .append("|---|---:|---:|---:|---:|\n");
                cpuRows.forEach(sb::append);
            }
        }
        sb.append("\n| ratio (throughput, paired by round) | mean | min – max | target |\n|---|---:|---:|---|\n");
        for (PairedRatio r : ratios()) {
            sb.append(String.format(Locale.ROOT, "| %s %s | %.2f | %.2f – %.2f | %s |%n", r.name(), r.meaning(), r.mean(),
                    r.min(), r.max(), r.target() == null ? "" : (r.atLeast() ? "≥ " : "≤ ") + r.target()
                            + (Boolean.TRUE.equals(r.met()) ? " (met)" : " (not met)")));
        }
        if (!databaseCost.isEmpty()) {
            double shared = databaseCost.get(0).backendMillis();
            sb.append("\n## The database's CPU per realistic request, one connection, no concurrency\n\n")
                    .append("| how the request is served | database CPU ms | vs the shared account |\n|---|---:|---:|\n");
            for (DatabaseCost.Line l : databaseCost) {
                sb.append(String.format(Locale.ROOT, "| %s | %.3f | %s |%n", l.what(), l.backendMillis(),
                        shared > 0 ? String.format(Locale.ROOT, "%.2f×", l.backendMillis() / shared) : "–"));
            }
        }
        return sb.toString();
    }

    public void print() {
        for (Summary s : summaries()) {
            System.out.println(String.format(Locale.ROOT, "%-5s %-44s %8.1f req/s (%.1f..%.1f)  p50 %7.2f ms  p99 %7.2f ms"
                    + "  errors %d", s.workload(), LABELS.get(s.resource()), s.rps(), s.rpsMin(), s.rpsMax(), s.p50(), s.p99(),
                    s.errors()));
        }
        for (PairedRatio r : ratios()) {
            System.out.println(String.format(Locale.ROOT, "%-8s %7.3f (rounds %.3f..%.3f)  %s%s", r.name(), r.mean(),
                    r.min(), r.max(), r.meaning(), r.target() == null ? "" : " [target " + (r.atLeast() ? ">= " : "<= ")
                            + r.target() + ": " + (Boolean.TRUE.equals(r.met()) ? "met" : "NOT met") + "]"));
        }
    }

    public void renderChart(Path png) throws IOException {
        CategoryChart rps = new CategoryChartBuilder().width(1200).height(420)
                .title("Payara Micro: requests per second (mean of rounds; whiskers span min..max)")
                .yAxisTitle("requests / s").build();
        style(rps);
        rps.getStyler().setLegendPosition(LegendPosition.InsideNE);
        rps.getStyler().setYAxisDecimalPattern("#,##0");
        CategoryChart latency = new CategoryChartBuilder().width(1200).height(420)
                .title("p99 latency per request (ms, mean of rounds)").yAxisTitle("ms").build();
        style(latency);
        latency.getStyler().setLegendPosition(LegendPosition.InsideNW);
        latency.getStyler().setYAxisDecimalPattern("#,##0.0");
        Color[] colours = {new Color(0x3b6ea8), new Color(0xe08a2e)};
        int k = 0;
        for (var w : WORKLOADS.entrySet()) {
            List<Summary> ss = summaries(w.getKey());
            if (ss.isEmpty()) {
                continue;
            }
            List<String> x = ss.stream().map(s -> LABELS.get(s.resource())).toList();
            String name = w.getKey().equals("order") ? "realistic request" : "select current_user";
            rps.addSeries(name, x, ss.stream().map(Summary::rps).toList(),
                    ss.stream().map(s -> (s.rpsMax() - s.rpsMin()) / 2).toList()).setFillColor(colours[k % 2]);
            latency.addSeries(name, x, ss.stream().map(Summary::p99).toList()).setFillColor(colours[k % 2]);
            k++;
        }
        BufferedImage a = BitmapEncoder.getBufferedImage(rps);
        BufferedImage b = BitmapEncoder.getBufferedImage(latency);
        List<String> footer = new ArrayList<>();
        StringBuilder ratioLine = new StringBuilder("Throughput ratios, paired by round: ");
        for (PairedRatio r : ratios()) {
            ratioLine.append(String.format(Locale.ROOT, "%s = %.2f (rounds %.2f..%.2f)   ", r.name(), r.mean(), r.min(),
                    r.max()));
        }
        footer.add(ratioLine.toString());
        footer.addAll(wrap(environment.getOrDefault("setup", ""), 150));
        footer.addAll(wrap(environment.getOrDefault("pools", "") + "; " + environment.getOrDefault("server", "") + "; "
                + environment.getOrDefault("date", ""), 150));
        BufferedImage all = new BufferedImage(1200, a.getHeight() + b.getHeight() + 12 + 18 * footer.size(),
                BufferedImage.TYPE_INT_RGB);
        Graphics2D g = all.createGraphics();
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, all.getWidth(), all.getHeight());
        g.drawImage(a, 0, 0, null);
        g.drawImage(b, 0, a.getHeight(), null);
        g.setColor(Color.DARK_GRAY);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        for (int i = 0; i < footer.size(); i++) {
            g.drawString(footer.get(i), 12, a.getHeight() + b.getHeight() + 18 + 18 * i);
        }
        g.dispose();
        ImageIO.write(all, "png", png.toFile());
    }

    static List<String> wrap(String text, int width) {
        List<String> lines = new ArrayList<>();
        StringBuilder line = new StringBuilder();
        for (String word : text.split(" ")) {
            if (line.length() + word.length() + 1 > width && line.length() > 0) {
                lines.add(line.toString());
                line.setLength(0);
            }
            line.append(line.length() == 0 ? "" : " ").append(word);
        }
        if (line.length() > 0) {
            lines.add(line.toString());
        }
        return lines;
    }

    private static void style(CategoryChart chart) {
        Chart.style(chart);
        chart.getStyler().setYAxisMin(0.0);
    }

    private static String q(String s) {
        return s == null ? "null" : "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }
}
