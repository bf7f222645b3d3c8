package dev.proxyra.bench;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedStackTrace;
import jdk.jfr.consumer.RecordingFile;

/**
 * Reads a JFR recording of a benchmark (for example from {@code -Dbench.profile=gc,jfr}) and prints where the
 * CPU samples and the sampled allocations go: top methods by self time, methods by inclusive time, and
 * allocation sites by weight. {@code java -cp ... dev.proxyra.bench.JfrSummary profile.jfr [filter] [rows]};
 * the optional filter (e.g. dev.proxyra) keeps only methods whose class starts with it in the inclusive table.
 */
public final class JfrSummary {

    private JfrSummary() {
    }

    public static void main(String[] args) throws IOException {
        Path file = Path.of(args[0]);
        String filter = args.length > 1 ? args[1] : "";
        int rows = args.length > 2 ? Integer.parseInt(args[2]) : 25;
        Map<String, Long> self = new HashMap<>();
        Map<String, Long> inclusive = new HashMap<>();
        Map<String, Long> allocSite = new HashMap<>();
        Map<String, Long> allocFirstOwn = new HashMap<>();
        Map<String, Long> allocType = new HashMap<>();
        long samples = 0;
        long allocTotal = 0;
        for (RecordedEvent e : RecordingFile.readAllEvents(file)) {
            String type = e.getEventType().getName();
            RecordedStackTrace st = e.getStackTrace();
            if (st == null || st.getFrames().isEmpty()) {
                continue;
            }
            List<RecordedFrame> frames = st.getFrames();
            if (type.equals("jdk.ExecutionSample")) {
                samples++;
                self.merge(name(frames.get(0)), 1L, Long::sum);
                Set<String> seen = new HashSet<>();
                for (RecordedFrame f : frames) {
                    String n = name(f);
                    if (seen.add(n)) {
                        inclusive.merge(n, 1L, Long::sum);
                    }
                }
            } else if (type.equals("jdk.ObjectAllocationSample")) {
                long w = e.getLong("weight");
                allocTotal += w;
                allocSite.merge(name(frames.get(0)), w, Long::sum);
                allocType.merge(e.getClass("objectClass").getName(), w, Long::sum);
                String own = "(none)";
                for (RecordedFrame f : frames) {
                    String n = name(f);
                    if (!filter.isEmpty() && n.startsWith(filter)) {
                        own = n;
                        break;
                    }
                }
                allocFirstOwn.merge(own, w, Long::sum);
            }
        }
        System.out.println("CPU samples: " + samples);
        table("top methods by self time", self, samples, rows, "");
        table("methods by inclusive time" + (filter.isEmpty() ? "" : " (" + filter + "*)"), inclusive, samples, rows,
                filter);
        System.out.println("\nsampled allocation weight: " + allocTotal / 1024 / 1024 + " MB");
        table("allocation by allocating method", allocSite, allocTotal, rows, "");
        table("allocation by type", allocType, allocTotal, rows, "");
        if (!filter.isEmpty()) {
            table("allocation by innermost " + filter + "* frame ((none): outside it)", allocFirstOwn, allocTotal, rows, "");
        }
    }

    private static String name(RecordedFrame f) {
        return f.getMethod().getType().getName() + "." + f.getMethod().getName();
    }

    private static void table(String title, Map<String, Long> counts, long total, int rows, String filter) {
        System.out.println("\n== " + title);
        List<Map.Entry<String, Long>> list = new ArrayList<>(counts.entrySet());
        list.removeIf(e -> !filter.isEmpty() && !e.getKey().startsWith(filter));
        list.sort(Map.Entry.<String, Long>comparingByValue().reversed());
        for (Map.Entry<String, Long> e : list.subList(0, Math.min(rows, list.size()))) {
            System.out.println(String.format(Locale.ROOT, "%6.1f%%  %s", 100.0 * e.getValue() / Math.max(1, total),
                    e.getKey()));
        }
    }
}
