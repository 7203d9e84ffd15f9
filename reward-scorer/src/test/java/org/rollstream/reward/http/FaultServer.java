package org.rollstream.reward.http;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiFunction;

import com.sun.net.httpserver.HttpServer;

/** An in-JVM HTTP endpoint whose answers a test programs: (request number from 1, request body) → answer. */
public final class FaultServer implements AutoCloseable {
    /** What to answer, after waiting {@code delayMs}. */
    public record Answer(int status, String body, long delayMs) {
        public static Answer ok(String body) {
            return new Answer(200, body, 0);
        }

        public static Answer status(int status) {
            return new Answer(status, "{\"error\": \"status " + status + "\"}", 0);
        }
    }

    private final HttpServer server;
    private final ExecutorService pool = Executors.newFixedThreadPool(16);
    private final AtomicInteger requests = new AtomicInteger();
    private final AtomicInteger inFlight = new AtomicInteger();
    private final AtomicInteger maxInFlight = new AtomicInteger();

    public FaultServer(BiFunction<Integer, String, Answer> answers) throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 64);
        server.setExecutor(pool);
        server.createContext("/", ex -> {
            int n = requests.incrementAndGet();
            maxInFlight.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
            try {
                String body = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
                Answer a = answers.apply(n, body);
                if (a.delayMs() > 0) {
                    Thread.sleep(a.delayMs());
                }
                byte[] out = a.body().getBytes(StandardCharsets.UTF_8);
                ex.sendResponseHeaders(a.status(), out.length);
                try (OutputStream os = ex.getResponseBody()) {
                    os.write(out);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (IOException e) {
                // the client gave up (timeout): nothing to answer
            } finally {
                inFlight.decrementAndGet();
                ex.close();
            }
        });
        server.start();
    }

    public String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort() + "/score";
    }

    public int requests() {
        return requests.get();
    }

    public int maxInFlight() {
        return maxInFlight.get();
    }

    @Override
    public void close() {
        server.stop(0);
        pool.shutdownNow();
    }
}
