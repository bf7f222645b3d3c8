package dev.proxyra.bench.load;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The CPU time of the load test's three parties, read from Linux's /proc: the server JVM, the database (the postmaster,
 * its live backends and the backends it already reaped) and this JVM (the HTTP clients). Divided by the requests of a
 * round it says which party a resource makes work harder; the machine's CPUs are shared by all three.
 */
final class CpuMeter {
    /** /proc counts in clock ticks of 1/100 s (USER_HZ) on Linux's usual builds. */
    static final long NANOS_PER_TICK = 10_000_000L;

    /** CPU nanoseconds used so far by each party. */
    record Sample(long serverNanos, long databaseNanos, long clientNanos) {
        Sample minus(Sample earlier) {
            return new Sample(serverNanos - earlier.serverNanos, databaseNanos - earlier.databaseNanos,
                    clientNanos - earlier.clientNanos);
        }
    }

    private final ProcessHandle server;
    private final ProcessHandle postmaster;

    CpuMeter(ProcessHandle server, ProcessHandle postmaster) {
        this.server = server;
        this.postmaster = postmaster;
    }

    /** Whether this machine has Linux's /proc to read CPU time from. */
    static boolean available() {
        return Files.isReadable(Path.of("/proc/self/stat"));
    }

    /** Null where /proc cannot be read (not Linux): the report then leaves the CPU columns out. */
    static CpuMeter onLinux(ProcessHandle server, ProcessHandle postmaster) {
        return available() ? new CpuMeter(server, postmaster) : null;
    }

    Sample sample() {
        return new Sample(ticks(server.pid(), false) * NANOS_PER_TICK, databaseTicks() * NANOS_PER_TICK,
                ticks(ProcessHandle.current().pid(), false) * NANOS_PER_TICK);
    }

    /**
     * The postmaster's own and reaped time plus its live backends'. A backend reaped while the backends are read
     * would be in neither part: the reading is repeated until the reaped time stood still across it.
     */
    private long databaseTicks() {
        long reaped = ticks(postmaster.pid(), true);
        for (int attempt = 0; ; attempt++) {
            long live = 0;
            for (ProcessHandle backend : postmaster.children().toList()) {
                live += ticks(backend.pid(), false);
            }
            long reapedAfter = ticks(postmaster.pid(), true);
            if (reapedAfter == reaped || attempt == 10) {
                return reapedAfter + live;
            }
            reaped = reapedAfter;
        }
    }

    /** utime + stime, and with {@code reaped} also the children's it waited for (cutime + cstime); 0 once gone. */
    static long ticks(long pid, boolean reaped) {
        String stat;
        try {
            stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
        } catch (java.nio.file.NoSuchFileException gone) {
            return 0;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return ticks(stat, reaped);
    }

    /** Fields 14-17 of /proc/PID/stat, counted after the command name, which may hold spaces and parentheses. */
    static long ticks(String stat, boolean reaped) {
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).trim().split(" ");
        long own = Long.parseLong(f[11]) + Long.parseLong(f[12]);
        return reaped ? own + Long.parseLong(f[13]) + Long.parseLong(f[14]) : own;
    }
}
