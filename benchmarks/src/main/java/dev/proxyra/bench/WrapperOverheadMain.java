package dev.proxyra.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

import jdk.jfr.Configuration;
import jdk.jfr.Recording;

import dev.proxyra.jdbc.ProxyraDataSource;
import dev.proxyra.spi.ProxyraManagedConnectionFactory;
import dev.proxyra.testing.Database;
import dev.proxyra.testing.Factories;
import dev.proxyra.testing.TestCallers;

/**
 * What proxyra's JDBC wrappers cost per column read: the same result set of {@code wrappers.rows} rows × 10 columns
 * (int, bigint, text, timestamp, numeric, twice) read through a proxyra handle and through the raw driver connection,
 * on one embedded PostgreSQL, both connections open for the whole run and running as the same role (the raw one
 * logs in as the proxy account and sets the role itself). Only the read loop is timed: pgjdbc has the whole result
 * in memory when executeQuery returns, so the loop is client CPU only, with no round trip in it. Typed getters and
 * getObject are measured separately. Rounds interleave the four readers in a new random order each time; each
 * round's difference is divided by the number of getXxx calls, and the medians over the rounds are printed with
 * their interquartile range. A JFR recording of proxyra's loops follows, summarised by {@link JfrSummary}.
 * {@code ./mvnw -B -pl benchmarks -am -Pwrappers -DskipTests verify}; knobs: wrappers.rows (10000),
 * wrappers.warmup (40 reads per reader), wrappers.rounds (40), wrappers.jfrSeconds (5; 0 skips), wrappers.output.
 */
public final class WrapperOverheadMain {
    private static final int COLUMNS = 10;

    private WrapperOverheadMain() {
    }

    enum Reader { RAW_TYPED, PROXYRA_TYPED, RAW_OBJECT, PROXYRA_OBJECT }

    public static void main(String[] args) throws Exception {
        int rows = Integer.getInteger("wrappers.rows", 10_000);
        int warmup = Integer.getInteger("wrappers.warmup", 40);
        int rounds = Integer.getInteger("wrappers.rounds", 40);
        int jfrSeconds = Integer.getInteger("wrappers.jfrSeconds", 5);
        Path output = Path.of(System.getProperty("wrappers.output", "target/wrappers"));
        Files.createDirectories(output);
        long calls = (long) rows * COLUMNS;
        try (Database db = Database.embedded().start()) {
            createTable(db, rows);
            ProxyraManagedConnectionFactory mcf = Factories.on(db).build();
            TestCallers.set("alice");
            ProxyraDataSource ds = Factories.dataSource(mcf);
            try (Connection raw = DriverManager.getConnection(db.url(), Database.PROXY_USER,
                    Database.PROXY_PASSWORD);
                 Connection handle = ds.getConnection()) {
                try (Statement s = raw.createStatement()) {
                    s.execute("SET ROLE alice");
                }
                String sql = "select * from wrapper_bench";
                Map<Reader, PreparedStatement> statements = new EnumMap<>(Reader.class);
                statements.put(Reader.RAW_TYPED, raw.prepareStatement(sql));
                statements.put(Reader.RAW_OBJECT, raw.prepareStatement(sql));
                statements.put(Reader.PROXYRA_TYPED, handle.prepareStatement(sql));
                statements.put(Reader.PROXYRA_OBJECT, handle.prepareStatement(sql));
                long check = 0;
                for (int i = 0; i < warmup; i++) {
                    for (Reader r : Reader.values()) {
                        check += read(r, statements.get(r), rows)[1];
                    }
                }
                Map<Reader, List<Long>> nanos = new EnumMap<>(Reader.class);
                for (Reader r : Reader.values()) {
                    nanos.put(r, new ArrayList<>());
                }
                List<Reader> order = new ArrayList<>(List.of(Reader.values()));
                Random random = new Random(21);
                for (int round = 0; round < rounds; round++) {
                    Collections.shuffle(order, random);
                    for (Reader r : order) {
                        long[] timed = read(r, statements.get(r), rows);
                        nanos.get(r).add(timed[0]);
                        check += timed[1];
                    }
                }
                String report = report(nanos, rows, calls, rounds) + "\n(checksum " + check + ")\n";
                System.out.println(report);
                Files.writeString(output.resolve("wrappers.txt"), report);
                if (jfrSeconds > 0) {
                    Path jfr = output.resolve("wrappers.jfr");
                    record(jfr, jfrSeconds, statements, rows);
                    System.out.println("JFR of proxyra's read loops (" + jfrSeconds + " s): " + jfr);
                    JfrSummary.main(new String[] {jfr.toString(), "dev.proxyra", "20"});
                }
                for (PreparedStatement ps : statements.values()) {
                    ps.close();
                }
            } finally {
                TestCallers.set(null);
                mcf.close();
            }
        }
    }

    private static void createTable(Database db, int rows) throws SQLException {
        db.execute("create table wrapper_bench (i1 int, l1 bigint, t1 text, ts1 timestamp, n1 numeric(14,2),"
                + " i2 int, l2 bigint, t2 text, ts2 timestamp, n2 numeric(14,2))");
        db.execute("insert into wrapper_bench select g, g * 1000003::bigint, 'row ' || g, timestamp '2026-01-01'"
                + " + g * interval '1 minute', g / 7.0, -g, g::bigint << 20, md5(g::text),"
                + " timestamp '2020-02-29' + g * interval '1 second', g * 3.25 from generate_series(1, " + rows
                + ") g");
        db.execute("grant select on wrapper_bench to alice");
        db.execute("analyze wrapper_bench");
    }

    /** One read of the whole result: the loop's nanoseconds, and a checksum that keeps the values alive. */
    private static long[] read(Reader reader, PreparedStatement ps, int rows) throws SQLException {
        try (ResultSet rs = ps.executeQuery()) {
            long check = 0;
            int seen = 0;
            long start = System.nanoTime();
            if (reader == Reader.RAW_TYPED || reader == Reader.PROXYRA_TYPED) {
                while (rs.next()) {
                    check += rs.getInt(1) + rs.getLong(2) + rs.getString(3).length()
                            + rs.getTimestamp(4).getNanos() + rs.getBigDecimal(5).scale()
                            + rs.getInt(6) + rs.getLong(7) + rs.getString(8).length()
                            + rs.getTimestamp(9).getNanos() + rs.getBigDecimal(10).scale();
                    seen++;
                }
            } else {
                while (rs.next()) {
                    for (int c = 1; c <= COLUMNS; c++) {
                        check += rs.getObject(c).hashCode();
                    }
                    seen++;
                }
            }
            long elapsed = System.nanoTime() - start;
            if (seen != rows) {
                throw new IllegalStateException(reader + " read " + seen + " rows, not " + rows);
            }
            return new long[] {elapsed, check};
        }
    }

    private static void record(Path file, int seconds, Map<Reader, PreparedStatement> statements, int rows)
            throws Exception {
        Configuration profile = Configuration.getConfiguration("profile");
        try (Recording recording = new Recording(profile)) {
            recording.enable("jdk.ExecutionSample").withPeriod(java.time.Duration.ofMillis(1));
            recording.setToDisk(true);
            recording.start();
            long end = System.nanoTime() + seconds * 1_000_000_000L;
            while (System.nanoTime() < end) {
                read(Reader.PROXYRA_TYPED, statements.get(Reader.PROXYRA_TYPED), rows);
                read(Reader.PROXYRA_OBJECT, statements.get(Reader.PROXYRA_OBJECT), rows);
            }
            recording.stop();
            recording.dump(file);
        }
    }

    private static String report(Map<Reader, List<Long>> nanos, int rows, long calls, int rounds) {
        StringBuilder out = new StringBuilder();
        out.append(String.format(Locale.ROOT, "%d rows x %d columns = %d getXxx per read, %d interleaved rounds;"
                + " medians [interquartile range]%n%n", rows, COLUMNS, calls, rounds));
        out.append("| reader | read loop, ms | ns per getXxx (incl. next()) |\n|---|---|---|\n");
        for (Reader r : Reader.values()) {
            double[] ms = nanos.get(r).stream().mapToDouble(n -> n / 1e6).toArray();
            double[] perCall = nanos.get(r).stream().mapToDouble(n -> (double) n / calls).toArray();
            out.append(String.format(Locale.ROOT, "| %s | %s | %s |%n", r.name().toLowerCase(Locale.ROOT),
                    quartiles(ms), quartiles(perCall)));
        }
        out.append("\n| getters | proxyra / raw (per round) | proxyra − raw, ns per getXxx (per round) |\n"
                + "|---|---|---|\n");
        for (Reader[] pair : new Reader[][] {{Reader.PROXYRA_TYPED, Reader.RAW_TYPED},
            {Reader.PROXYRA_OBJECT, Reader.RAW_OBJECT}}) {
            List<Long> p = nanos.get(pair[0]);
            List<Long> q = nanos.get(pair[1]);
            double[] ratio = new double[p.size()];
            double[] extra = new double[p.size()];
            for (int i = 0; i < p.size(); i++) {
                ratio[i] = (double) p.get(i) / q.get(i);
                extra[i] = (double) (p.get(i) - q.get(i)) / calls;
            }
            out.append(String.format(Locale.ROOT, "| %s | %s | %s |%n",
                    pair[0] == Reader.PROXYRA_TYPED ? "typed (getInt, getLong, getString, getTimestamp, getBigDecimal)"
                            : "getObject", quartiles(ratio, "%.2f"), quartiles(extra)));
        }
        return out.toString();
    }

    private static String quartiles(double[] values) {
        return quartiles(values, "%.1f");
    }

    private static String quartiles(double[] values, String format) {
        double[] v = values.clone();
        Arrays.sort(v);
        return String.format(Locale.ROOT, format + " [" + format + "–" + format + "]", at(v, 0.5), at(v, 0.25),
                at(v, 0.75));
    }

    private static double at(double[] sorted, double q) {
        double index = q * (sorted.length - 1);
        int low = (int) Math.floor(index);
        int high = (int) Math.ceil(index);
        return sorted[low] + (sorted[high] - sorted[low]) * (index - low);
    }
}
