package org.rollstream.reward.http;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** examples/http_reward_server.py as a real process; {@link #close} kills it. */
public final class PythonServer implements AutoCloseable {
    public static final Path SCRIPT = Path.of("..", "examples", "http_reward_server.py").toAbsolutePath().normalize();

    private final Process process;
    private final String url;

    private PythonServer(Process process, String url) {
        this.process = process;
        this.url = url;
    }

    /** Starts it on {@code port} (0 = any) and waits for its "listening on URL" line. */
    public static PythonServer start(int port, String... extra) throws IOException {
        if (!Files.isRegularFile(SCRIPT)) {
            throw new IllegalStateException("example not found: " + SCRIPT);
        }
        List<String> cmd = new ArrayList<>(List.of("python3", SCRIPT.toString(), "--port", Integer.toString(port)));
        cmd.addAll(List.of(extra));
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        String line = out.readLine();
        if (line == null || !line.startsWith("listening on ")) {
            p.destroyForcibly();
            throw new IllegalStateException("the example server did not start: " + line);
        }
        return new PythonServer(p, line.substring("listening on ".length()).strip());
    }

    public String url() {
        return url;
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(5, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }
    }
}
