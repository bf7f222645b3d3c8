package dev.proxyra.it.servers;

import java.io.IOException;
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
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;

/**
 * Runs a server's own scripts (asadmin, jboss-cli, server) as processes, with their output in a file, and waits
 * for conditions the server reports itself: a log line, an HTTP answer, a process exit.
 */
public final class ServerProcess {
    private ServerProcess() {
    }

    /** Runs {@code command} to completion (at most {@code timeout}) and returns its output; fails on a non-zero exit. */
    static String run(Path workDir, Map<String, String> env, Duration timeout, List<String> command)
            throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(command).directory(workDir.toFile()).redirectErrorStream(true);
        pb.environment().putAll(env);
        Process p = pb.start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            p.destroyForcibly();
            throw new IOException(String.join(" ", command) + " did not finish within " + timeout);
        }
        String text = new String(out, StandardCharsets.UTF_8);
        if (p.exitValue() != 0) {
            throw new IOException(String.join(" ", command) + " exited with " + p.exitValue() + ":\n" + text);
        }
        return text;
    }

    /** Starts a long-running server process with its output in {@code log}. */
    static Process start(Path workDir, Map<String, String> env, Path log, List<String> command) throws IOException {
        Files.createDirectories(log.getParent());
        ProcessBuilder pb = new ProcessBuilder(command).directory(workDir.toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile());
        pb.environment().putAll(env);
        return pb.start();
    }

    /**
     * Waits until {@code condition} holds, or fails after {@code timeout} saying what did not happen. The
     * condition is checked again whenever the server writes to its log directory {@code logs} (a file-system
     * event), and at least once a second for what a log does not show (a port that starts answering).
     */
    static void await(String what, Duration timeout, Path logs, BooleanSupplier condition)
            throws InterruptedException, IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        Files.createDirectories(logs);
        try (WatchService watcher = logs.getFileSystem().newWatchService()) {
            logs.register(watcher, StandardWatchEventKinds.ENTRY_CREATE, StandardWatchEventKinds.ENTRY_MODIFY);
            while (!condition.getAsBoolean()) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException(what + " did not happen within " + timeout);
                }
                WatchKey key = watcher.poll(1, TimeUnit.SECONDS);
                if (key != null) {
                    key.pollEvents();
                    key.reset();
                }
            }
        }
    }

    /** The Java process a server's script started: the script's process itself when it exec'd java, else its child. */
    static long javaPid(Process script) {
        java.util.function.Predicate<ProcessHandle> java = h -> h.info().command()
                .map(c -> c.endsWith("/java")).orElse(false);
        if (java.test(script.toHandle())) {
            return script.pid();
        }
        return script.descendants().filter(java).findFirst().orElseThrow(() -> new IllegalStateException(
                "no Java process under " + script.pid())).pid();
    }

    /**
     * SIGKILL to the server's Java process (what a power loss or the kernel's OOM killer does: no shutdown hook, no
     * flush), then waits until it and the script that started it are gone.
     */
    static void kill(Process script) throws Exception {
        ProcessHandle jvm = ProcessHandle.of(javaPid(script)).orElseThrow();
        jvm.destroyForcibly();
        jvm.onExit().get(1, TimeUnit.MINUTES);
        if (!script.waitFor(1, TimeUnit.MINUTES)) {
            throw new IllegalStateException("the script of the killed server " + script.pid() + " did not end");
        }
    }

    static boolean fileContains(Path file, String text) {
        try {
            return Files.exists(file) && Files.readString(file, StandardCharsets.ISO_8859_1).contains(text);
        } catch (IOException e) {
            return false;
        }
    }

    /** Whether an HTTP GET of {@code uri} gets any answer with the given status. */
    static boolean answers(URI uri, int status) {
        try {
            HttpResponse<Void> r = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build()
                    .send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(5)).build(),
                            HttpResponse.BodyHandlers.discarding());
            return r.statusCode() == status;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** The HTTP status a GET of {@code uri} gets, or -1 when nothing answers. */
    static int status(URI uri) {
        try {
            return HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build()
                    .send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(30)).build(),
                            HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    /**
     * Waits until {@code uri} answers with anything but "not there yet" (404, 503) or fails after {@code timeout}:
     * servers report a deployment done before the application answers. Checked once a second.
     */
    public static void awaitAnswering(URI uri, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            int status = status(uri);
            if (status > 0 && status != 404 && status != 503) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(uri + " did not answer within " + timeout + " (last status " + status + ")");
            }
            Thread.sleep(1000); // polling an HTTP endpoint: there is nothing to wait on but its answer
        }
    }

    /** Whether {@code uri} answers with anything but "not there yet" (404, 503): the application is deployed. */
    static boolean deployed(URI uri) {
        int status = status(uri);
        return status > 0 && status != 404 && status != 503;
    }

    /** Whether nothing listens on {@code port} of 127.0.0.1 now. */
    static boolean free(int port) {
        try (ServerSocket s = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** How often {@code text} occurs in {@code file} (0 when it does not exist yet). */
    static int count(Path file, String text) {
        try {
            if (!Files.exists(file)) {
                return 0;
            }
            String content = Files.readString(file, StandardCharsets.ISO_8859_1);
            int n = 0;
            for (int i = content.indexOf(text); i >= 0; i = content.indexOf(text, i + text.length())) {
                n++;
            }
            return n;
        } catch (IOException e) {
            return 0;
        }
    }

    /** The last {@code n} lines of {@code file}, for a failure message. */
    static String lastLines(Path file, int n) {
        try {
            List<String> lines = Files.readAllLines(file, StandardCharsets.ISO_8859_1);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - n), lines.size()));
        } catch (IOException e) {
            return "(" + file + " unreadable: " + e + ")";
        }
    }

    /**
     * The stacks of the threads of {@code server}'s Java processes that mention any of {@code frames}, taken with
     * the JDK's jcmd: what a server that does not answer is busy with, for a failure message.
     */
    static String threadDump(Process server, String... frames) {
        Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
        StringBuilder relevant = new StringBuilder();
        for (ProcessHandle java : server.descendants().filter(ProcessHandle::isAlive).toList()) {
            try {
                String dump = run(Path.of("."), Map.of(), Duration.ofSeconds(30),
                        List.of(jcmd.toString(), Long.toString(java.pid()), "Thread.print"));
                for (String thread : dump.split("\n\n")) {
                    for (String frame : frames) {
                        if (thread.contains(frame)) {
                            relevant.append(thread).append("\n\n");
                            break;
                        }
                    }
                }
            } catch (IOException e) {
                relevant.append("(no thread dump of ").append(java.pid()).append(": ").append(e).append(")\n");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        return relevant.toString();
    }

    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (var paths = Files.walk(dir)) {
            for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    static void copyTree(Path from, Path to) throws IOException {
        try (var paths = Files.walk(from)) {
            for (Path p : paths.toList()) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target, java.nio.file.StandardCopyOption.COPY_ATTRIBUTES);
                }
            }
        }
    }

    /** A port nothing listens on now, on 127.0.0.1. */
    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    /**
     * Ends a process after the caller asked the server to stop its own way: waits up to {@code timeout} for it to
     * exit, then terminates it, then kills it, and kills whatever children it left.
     */
    static void stop(Process p, Duration timeout) throws InterruptedException {
        if (p == null) {
            return;
        }
        List<ProcessHandle> children = p.descendants().toList();
        if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            p.destroy();
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                p.waitFor(30, TimeUnit.SECONDS);
            }
        }
        for (ProcessHandle c : children) {
            if (c.isAlive()) {
                c.destroyForcibly();
            }
        }
    }
}
