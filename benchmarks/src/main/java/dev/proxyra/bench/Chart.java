package dev.proxyra.bench;

import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import javax.imageio.ImageIO;

import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.style.Styler.LegendPosition;

/** Renders results.json's figures as docs/benchmarks/chart.png with XChart: two panels, one image. */
public final class Chart {
    private static final int WIDTH = 1200;
    private static final Color[] SERIES = {new Color(0x3b6ea8), new Color(0xe08a2e), new Color(0x5a9e52)};

    private Chart() {
    }

    public static void render(Results results, Path png) throws IOException {
        BufferedImage top = BitmapEncoder.getBufferedImage(throughput(results));
        BufferedImage middle = BitmapEncoder.getBufferedImage(ratios(results));
        BufferedImage client = results.clientSide().isEmpty() ? null
                : BitmapEncoder.getBufferedImage(clientSide(results));
        BufferedImage bottom = client == null ? middle : stack(middle, client);
        int footer = 118;
        BufferedImage all = new BufferedImage(WIDTH, top.getHeight() + bottom.getHeight() + footer,
                BufferedImage.TYPE_INT_RGB);
        Graphics2D g = all.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, all.getWidth(), all.getHeight());
        g.drawImage(top, 0, 0, null);
        g.drawImage(bottom, 0, top.getHeight(), null);
        g.setColor(Color.DARK_GRAY);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
        int y = top.getHeight() + bottom.getHeight() + 20;
        g.drawString("(a) proxyra, same caller, IdentityCheck=VERIFY   (a-scan) the same with IdentityCheck=SCAN   (b) proxyra,"
                + " a new caller each borrow   (c) raw UCP, labelled   (d) raw UCP,", 12, y);
        g.drawString("SET ROLE/RESET ROLE by hand   (e) a new physical connection per request; every pool: 8 physical"
                + " connections, UCP validate-on-borrow as proxyra's default", 12, y + 18);
        g.drawString(newConnectionLine(results), 12, y + 36);
        g.drawString(footerLine1(results), 12, y + 54);
        g.drawString(footerLine2(results), 12, y + 72);
        g.drawString(footerLine3(results), 12, y + 90);
        g.dispose();
        ImageIO.write(all, "png", png.toFile());
    }

    private static BufferedImage stack(BufferedImage a, BufferedImage b) {
        BufferedImage out = new BufferedImage(WIDTH, a.getHeight() + b.getHeight(), BufferedImage.TYPE_INT_RGB);
        Graphics2D g = out.createGraphics();
        g.drawImage(a, 0, 0, null);
        g.drawImage(b, 0, a.getHeight(), null);
        g.dispose();
        return out;
    }

    /** Panel 3: the client side alone, over the in-memory driver: µs per borrow, allocation in the labels. */
    static CategoryChart clientSide(Results results) {
        CategoryChart chart = new CategoryChartBuilder().width(WIDTH).height(400)
                .title("Client side only (UCP + adapter over an in-memory driver, no database): µs per borrow,"
                        + " KB allocated per borrow below each bar")
                .yAxisTitle("µs per borrow").build();
        style(chart);
        chart.getStyler().setLegendVisible(false);
        chart.getStyler().setYAxisDecimalPattern("0.0");
        chart.getStyler().setYAxisMin(0.0);
        List<Measurement> ms = new ArrayList<>();
        for (Scenario s : Scenario.values()) {
            results.findClientSide(s, 1).ifPresent(ms::add);
        }
        if (!ms.isEmpty()) {
            List<String> x = ms.stream().map(m -> String.format(Locale.ROOT, "%s, %.1f KB", shortLabel(m.scenario()),
                    m.bytesPerOp() / 1024)).toList();
            chart.addSeries("1 thread", x, ms.stream().map(Measurement::microsPerOp).toList(),
                    ms.stream().map(Measurement::microsPerOpError).toList()).setFillColor(SERIES[2]);
        }
        return chart;
    }

    /**
     * Panel 1: throughput of all threads together per scenario and thread count (higher is better). The login
     * per request (e) is a sliver at this scale; its figures are in the footer.
     */
    static CategoryChart throughput(Results results) {
        CategoryChart chart = new CategoryChartBuilder().width(WIDTH).height(480)
                .title("JMH: borrow + select current_user + close, borrows per second, all threads together"
                        + " (higher is better; whiskers: 99.9% CI)")
                .yAxisTitle("borrows / s").build();
        style(chart);
        chart.getStyler().setLegendPosition(LegendPosition.InsideNE);
        chart.getStyler().setYAxisDecimalPattern("#,##0");
        chart.getStyler().setYAxisMin(0.0);
        // XChart needs a value in every category of every series: show what every thread count measured.
        List<Scenario> shown = new ArrayList<>();
        for (Scenario s : Scenario.values()) {
            if (results.threadCounts().stream().allMatch(t -> results.find(s, t).isPresent())) {
                shown.add(s);
            }
        }
        List<String> x = shown.stream().map(Chart::shortLabel).toList();
        int i = 0;
        for (int t : results.threadCounts()) {
            List<Double> y = new ArrayList<>();
            List<Double> err = new ArrayList<>();
            for (Scenario s : shown) {
                Measurement m = results.find(s, t).orElseThrow();
                y.add(m.opsPerSecond());
                err.add(Double.isNaN(m.opsPerSecondError()) ? 0.0 : m.opsPerSecondError());
            }
            if (!x.isEmpty()) {
                chart.addSeries(t + (t == 1 ? " thread" : " threads"), x, y, err)
                        .setFillColor(SERIES[i++ % SERIES.length]);
            }
        }
        return chart;
    }

    /**
     * Panel 2: the ratios near 1, linear scale. From the interleaved run when there is one (paired in time, so
     * robust to the machine's background load; whiskers reach the farther quartile), else from JMH (whiskers:
     * the two 99.9% confidence intervals combined). The login-per-request ratio, far off this scale, is in the title.
     */
    static CategoryChart ratios(Results results) {
        boolean paired = !results.pairedRatios().isEmpty();
        List<String> names = List.of("a/c", "a-scan/c", "b/a", "b/d");
        StringBuilder login = new StringBuilder();
        List<Row> rows = new ArrayList<>();
        if (paired) {
            for (Interleaved.PairedRatio r : results.pairedRatios()) {
                rows.add(new Row(r.name(), r.threads(), r.median(),
                        Math.max(r.median() - r.p25(), r.p75() - r.median())));
            }
        } else {
            for (Ratio r : results.ratios()) {
                rows.add(new Row(r.name(), r.threads(), r.value(), r.error()));
            }
        }
        for (Row r : rows) {
            if (r.name().equals("e/a")) {
                login.append(login.length() == 0 ? "" : ", ").append(String.format(Locale.ROOT, "%.0fx at %d thread%s",
                        r.value(), r.threads(), r.threads() == 1 ? "" : "s"));
            }
        }
        CategoryChart chart = new CategoryChartBuilder().width(WIDTH).height(460)
                .title(paired ? "Time ratios from the interleaved run: median of per-round ratios, whiskers to the"
                        + " farther quartile (1.00 = equal)" : "Time ratios from the JMH run (whiskers: 99.9% CIs combined)")
                .yAxisTitle("ratio of time per borrow (1.00 = equal)").build();
        style(chart);
        chart.getStyler().setLegendPosition(LegendPosition.InsideNW);
        chart.getStyler().setYAxisDecimalPattern("0.00");
        chart.getStyler().setYAxisMin(0.0);
        List<Integer> threads = rows.stream().map(Row::threads).distinct().sorted().toList();
        List<String> shown = new ArrayList<>();
        for (String n : names) {
            if (threads.stream().allMatch(t -> rows.stream().anyMatch(r -> r.name().equals(n) && r.threads() == t))) {
                shown.add(n);
            }
        }
        List<String> x = shown.stream().map(Chart::ratioLabel).toList();
        int i = 0;
        for (int t : threads) {
            List<Double> y = new ArrayList<>();
            List<Double> err = new ArrayList<>();
            for (String n : shown) {
                Row r = rows.stream().filter(q -> q.name().equals(n) && q.threads() == t).findFirst().orElseThrow();
                y.add(r.value());
                err.add(r.error());
            }
            if (!x.isEmpty()) {
                chart.addSeries(t + (t == 1 ? " thread" : " threads"), x, y, err)
                        .setFillColor(SERIES[i++ % SERIES.length]);
            }
        }
        return chart;
    }

    private record Row(String name, int threads, double value, double error) {
    }

    /** The look every chart of the benchmarks shares. */
    public static void style(CategoryChart chart) {
        var st = chart.getStyler();
        st.setChartBackgroundColor(Color.WHITE);
        st.setPlotBackgroundColor(Color.WHITE);
        st.setPlotGridLinesColor(new Color(0xdddddd));
        st.setChartTitleFont(new Font(Font.SANS_SERIF, Font.BOLD, 15));
        st.setAxisTickLabelsFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        st.setLegendFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
        st.setErrorBarsColor(Color.BLACK);
        st.setLabelsVisible(true);
        st.setLabelsFont(new Font(Font.SANS_SERIF, Font.BOLD, 12));
        st.setLabelsFontColorAutomaticEnabled(false);
        st.setLabelsFontColor(Color.WHITE);
        st.setLabelsPosition(0.5);
        st.setChartPadding(12);
    }

    static String shortLabel(Scenario s) {
        return switch (s) {
            case PROXYRA_SAME -> "(a) proxyra same caller";
            case PROXYRA_SAME_SCAN -> "(a-scan) same, SCAN";
            case PROXYRA_SWITCH -> "(b) proxyra switching";
            case UCP_LABELLED -> "(c) UCP labelled";
            case UCP_SET_ROLE -> "(d) UCP SET/RESET";
            case NEW_CONNECTION -> "(e) new login";
        };
    }

    static String axisLabel(Scenario s) {
        return "(" + s.id() + ") " + s.label();
    }

    static String ratioLabel(String name) {
        return switch (name) {
            case "a/c" -> "a/c  proxyra vs raw UCP";
            case "a-scan/c" -> "a-scan/c  same, IdentityCheck=SCAN";
            case "b/a" -> "b/a  cost of an identity switch";
            case "b/d" -> "b/d  switch vs SET/RESET by hand";
            default -> name;
        };
    }

    private static String newConnectionLine(Results results) {
        StringBuilder e = new StringBuilder();
        for (int t : results.threadCounts()) {
            results.find(Scenario.NEW_CONNECTION, t).ifPresent(m -> e.append(e.length() == 0 ? "" : "; ")
                    .append(String.format(Locale.ROOT, "%,.0f ± %,.0f borrows/s at %d thread%s", m.opsPerSecond(),
                            m.opsPerSecondError(), t, t == 1 ? "" : "s")));
        }
        String ratio = "";
        for (Interleaved.PairedRatio r : results.pairedRatios()) {
            if (r.name().equals("e/a")) {
                ratio += String.format(Locale.ROOT, "%s%.0fx at %d thread%s", ratio.isEmpty() ? "" : ", ", r.median(),
                        r.threads(), r.threads() == 1 ? "" : "s");
            }
        }
        return e.length() == 0 ? "(e) new connection per request: not measured"
                : "(e) new connection per request: " + e + (ratio.isEmpty() ? "" : "; e/a (interleaved): " + ratio);
    }

    private static String footerLine1(Results results) {
        var env = results.environment();
        return "Machine: " + env.getOrDefault("cpus", "?") + " CPUs (" + env.getOrDefault("cpuModel", "?") + "), "
                + env.getOrDefault("java", "?") + ", " + env.getOrDefault("postgresql", "?") + " on 127.0.0.1";
    }

    private static String footerLine3(Results results) {
        return "Benchmarks, database and the machine's other work share the CPUs: compare within one run only. "
                + results.environment().getOrDefault("date", "");
    }

    private static String footerLine2(Results results) {
        HeapProbe.Result h = results.heap();
        String heap = h == null ? "heap: not measured"
                : String.format(Locale.ROOT, "Heap per pooled physical connection (%d idle, labelled): raw UCP %.1f KB,"
                        + " proxyra %.1f KB, adapter's share %+.0f B (spread %+.0f..%+.0f B); managed-connection shell %d B",
                        h.connections(), h.ucpPerConnection() / 1024, h.proxyraPerConnection() / 1024,
                        h.adapterPerConnection(), h.adapterPerConnectionMin(), h.adapterPerConnectionMax(),
                        h.managedConnectionShell());
        return heap;
    }
}
