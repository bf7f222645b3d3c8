package dev.proxyra.it.support;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The Payara Micro processes this JVM started (Arquillian's container destroys its process on undeploy
 * without waiting for it). Waiting for them to exit keeps two servers from sharing a root directory and
 * leaves no process behind.
 */
public final class PayaraProcesses {
    private PayaraProcesses() {
    }

    public static List<ProcessHandle> running() {
        return ProcessHandle.current().descendants()
                .filter(ProcessHandle::isAlive)
                .filter(p -> p.info().commandLine().map(c -> c.contains("payara-micro")).orElse(false))
                .toList();
    }

    /** Waits for every Payara Micro child to exit; kills and reports any that outlive the timeout. */
    public static void awaitExit(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        for (ProcessHandle p : running()) {
            try {
                p.onExit().get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            } catch (TimeoutException e) {
                p.destroyForcibly();
                throw new IllegalStateException("Payara Micro (pid " + p.pid() + ") did not stop within " + timeout
                        + " and was killed");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for Payara Micro to stop", e);
            } catch (ExecutionException e) {
                throw new IllegalStateException(e);
            }
        }
    }
}
