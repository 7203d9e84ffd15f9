package org.rollstream.launcher.chaos;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One role as an operating-system process that can be killed and started again with the same
 * command. Its output (stdout and stderr) is appended to {@code <logDir>/<name>.log}, each start
 * behind a header line, and the last lines are kept for error messages.
 *
 * <p>Not thread-safe: one controller drives it. {@link #kill()} is {@code kill -9}: the process gets
 * no chance to flush, commit or checkpoint, which is the point.
 */
final class RoleProcess {
    private static final int TAIL_LINES = 40;

    private final String name;
    private final List<String> command;
    private final Map<String, String> environment;
    private final Path logFile;
    private final Path workingDir; // null: the parent's
    private final Deque<String> tail = new ArrayDeque<>();
    private final List<String> lines = new ArrayList<>(); // of the current start, for awaitLine
    private Process process;
    private Thread pump;
    private int starts;
    private boolean killedByUs;

    RoleProcess(String name, List<String> command, Map<String, String> environment, Path logDir) {
        this(name, command, environment, logDir, null);
    }

    /** As above, the process running in {@code workingDir} (null: this JVM's). */
    RoleProcess(String name, List<String> command, Map<String, String> environment, Path logDir, Path workingDir) {
        this.workingDir = workingDir;
        this.name = name;
        this.command = List.copyOf(command);
        this.environment = Map.copyOf(environment);
        this.logFile = logDir.resolve(name + ".log");
    }

    String name() {
        return name;
    }

    Path logFile() {
        return logFile;
    }

    /** Starts (or starts again) the process. */
    void start() {
        if (process != null && process.isAlive()) {
            throw new IllegalStateException(name + " is running (pid " + process.pid() + ")");
        }
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        if (workingDir != null) {
            pb.directory(workingDir.toFile());
        }
        pb.environment().putAll(environment);
        try {
            Files.createDirectories(logFile.getParent());
            process = pb.start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + name + ": " + e.getMessage(), e);
        }
        starts++;
        killedByUs = false;
        synchronized (lines) {
            lines.clear();
        }
        Process p = process;
        String header = "=== " + name + " start " + starts + " pid " + p.pid() + " at " + Instant.now();
        pump = new Thread(() -> pump(p, header), "chaos-" + name + "-output");
        pump.setDaemon(true);
        pump.start();
    }

    private void pump(Process p, String header) {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
             BufferedWriter out = Files.newBufferedWriter(logFile, StandardCharsets.UTF_8,
                     StandardOpenOption.CREATE, StandardOpenOption.APPEND)) {
            out.write(header);
            out.newLine();
            String line;
            while ((line = in.readLine()) != null) {
                out.write(line);
                out.newLine();
                out.flush();
                synchronized (lines) {
                    lines.add(line);
                    lines.notifyAll();
                }
                synchronized (tail) {
                    tail.addLast(line);
                    if (tail.size() > TAIL_LINES) {
                        tail.removeFirst();
                    }
                }
            }
        } catch (IOException e) {
            // the process is gone or the log is not writable; its exit status tells the rest
        } finally {
            synchronized (lines) {
                lines.notifyAll();
            }
        }
    }

    /**
     * Waits until the current start printed a line matching {@code pattern}; empty if it exited or
     * the timeout passed first.
     */
    Optional<Matcher> awaitLine(Pattern pattern, Duration timeout) throws InterruptedException {
        long deadline = System.currentTimeMillis() + timeout.toMillis();
        int seen = 0;
        synchronized (lines) {
            while (true) {
                for (; seen < lines.size(); seen++) {
                    Matcher m = pattern.matcher(lines.get(seen));
                    if (m.find()) {
                        return Optional.of(m);
                    }
                }
                long left = deadline - System.currentTimeMillis();
                if (left <= 0 || (process != null && !process.isAlive() && !pump.isAlive())) {
                    return Optional.empty();
                }
                lines.wait(Math.min(left, 200));
            }
        }
    }

    /** {@code kill -9}, then waits until the process is gone. */
    void kill() throws InterruptedException {
        killedByUs = true;
        if (process != null && process.isAlive()) {
            process.destroyForcibly();
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                throw new IllegalStateException(name + " (pid " + process.pid() + ") survived kill -9 for 30 s");
            }
        }
        pump.join(5_000);
    }

    /** Asks the process to stop (SIGTERM), then kills it if it is still there after {@code grace}. */
    void stop(Duration grace) throws InterruptedException {
        killedByUs = true;
        if (process != null && process.isAlive()) {
            process.destroy();
            if (!process.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS)) {
                kill();
            }
        }
    }

    /** kill -9 without waiting, for a JVM that is exiting. */
    void killNow() {
        killedByUs = true;
        if (process != null) {
            process.destroyForcibly();
        }
    }

    boolean alive() {
        return process != null && process.isAlive();
    }

    /** True if the process is gone and nobody here asked for it. */
    boolean diedOnItsOwn() {
        return process != null && !process.isAlive() && !killedByUs;
    }

    /** Waits up to {@code timeout} for the process to exit by itself; its exit code, or empty if it still runs. */
    Optional<Integer> awaitExit(Duration timeout) throws InterruptedException {
        if (process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            pump.join(5_000);
            return Optional.of(process.exitValue());
        }
        return Optional.empty();
    }

    int exitCode() {
        return process.exitValue();
    }

    long pid() {
        return process.pid();
    }

    int starts() {
        return starts;
    }

    /** The last lines it printed, for a failure message. */
    String tail() {
        synchronized (tail) {
            return String.join("\n", tail);
        }
    }
}
