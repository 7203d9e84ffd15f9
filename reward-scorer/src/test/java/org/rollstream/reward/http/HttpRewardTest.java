package org.rollstream.reward.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.rollstream.reward.ComponentScore;
import org.rollstream.reward.CompositeReward;
import org.rollstream.reward.ExternalOptions;
import org.rollstream.reward.RewardConfig;
import org.rollstream.reward.RewardException;
import org.rollstream.reward.RewardInput;
import org.rollstream.reward.RewardScore;
import org.rollstream.reward.RewardUnavailableException;

/** The HTTP reward against real servers: the Python example as a process, and an in-JVM server for faults. */
@Timeout(120)
class HttpRewardTest {
    static final List<String> COMPLETIONS = List.of("<think>7+8=15</think><answer>85</answer>", "<answer>84</answer>",
            "85", "<think>a b c d e f</think><answer> 85 </answer>");
    static final double[] CORRECT = {1, 0, 0, 1}; // the example judges the text of the last <answer>, stripped

    static List<RewardInput> group(String groupId) {
        List<RewardInput> out = new ArrayList<>();
        int i = 0;
        for (String c : COMPLETIONS) {
            out.add(RewardInput.builder().task("arithmetic").prompt("37+48=").answer("85").completion(c).groupId(groupId)
                    .metadata(Map.of("completion_index", Integer.toString(i++))).build());
        }
        return out;
    }

    static HttpReward http(String url, String... options) {
        Map<String, String> o = new HashMap<>();
        o.put("url", url);
        for (int i = 0; i < options.length; i += 2) {
            o.put(options[i], options[i + 1]);
        }
        return HttpReward.create(new ExternalOptions("judge", o));
    }

    @Test
    void scoresWithThePythonExampleInBothFormats() throws Exception {
        try (PythonServer server = PythonServer.start(0)) {
            for (String format : List.of("rollstream", "openrlhf")) {
                HttpReward judge = http(server.url(), "format", format);
                List<ComponentScore> scores = judge.scoreGroup(group("g-1"));
                assertEquals(4, scores.size());
                for (int i = 0; i < 4; i++) {
                    assertEquals(CORRECT[i], scores.get(i).value(), 0.0, format + " reward " + i);
                    assertEquals(CORRECT[i], scores.get(i).parts().get("correct"), 0.0, format + " component " + i);
                    double brevity = 1.0 / (1.0 + COMPLETIONS.get(i).split("\\s+").length / 50.0);
                    assertEquals(brevity, scores.get(i).parts().get("brevity"), 1e-6, format + " brevity " + i);
                }
                assertEquals(1, judge.stats().requests());
                assertEquals(1, judge.stats().scored());
                assertEquals(1, judge.stats().latencyCount());
            }
        }
    }

    @Test
    void compositeWeighsTheHttpRewardAndRecordsItsParts() throws Exception {
        try (PythonServer server = PythonServer.start(0);
             CompositeReward r = new CompositeReward(RewardConfig.parse("format=1.0,judge=0.5,judge.type=http,judge.url=" + server.url()))) {
            List<RewardScore> scores = r.scoreGroup(group("g-2"));
            double[] format = {1, 0, 0, 1}; // <think> then <answer> with nothing after
            for (int i = 0; i < 4; i++) {
                RewardScore s = scores.get(i);
                assertEquals(format[i] + 0.5 * CORRECT[i], s.total(), 1e-12, "total " + i);
                assertEquals(CORRECT[i], s.components().get("judge"), 0.0);
                assertEquals(CORRECT[i], s.components().get("judge.correct"), 0.0);
                assertTrue(s.components().containsKey("judge.brevity"), s.components().toString());
            }
        }
    }

    @Test
    void aSlowServerTimesOutAndTheRetryIsAnswered() throws Exception {
        try (PythonServer server = PythonServer.start(0, "--delay-first", "1:5")) {
            HttpReward judge = http(server.url(), "timeout", "1s", "retries", "2", "backoff", "10ms");
            List<ComponentScore> scores = judge.scoreGroup(group("g-slow"));
            assertEquals(CORRECT[0], scores.get(0).value(), 0.0);
            assertEquals(1, judge.stats().timeouts(), judge.stats().toString());
            assertEquals(1, judge.stats().retries(), judge.stats().toString());
            assertEquals(2, judge.stats().requests(), judge.stats().toString());
        }
    }

    @Test
    void serverErrorsAreRetriedThenReportedUnavailableNeverZero() throws Exception {
        try (FaultServer server = new FaultServer((n, body) -> FaultServer.Answer.status(500))) {
            HttpReward judge = http(server.url(), "retries", "3", "backoff", "20ms", "max-backoff", "40ms", "breaker-failures", "100");
            RewardUnavailableException e = assertThrows(RewardUnavailableException.class, () -> judge.scoreGroup(group("g-500")));
            assertTrue(e.getMessage().contains("HTTP 500"), e.getMessage());
            assertTrue(e.getMessage().contains("4 requests failed"), e.getMessage());
            assertEquals(4, server.requests());
            assertEquals(3, judge.stats().retries());
            assertEquals(4, judge.stats().serverErrors());
            assertEquals(1, judge.stats().unavailable());
        }
    }

    @Test
    void aClientErrorIsNotRetried() throws Exception {
        try (FaultServer server = new FaultServer((n, body) -> new FaultServer.Answer(422, "{\"error\": \"bad field\"}", 0))) {
            HttpReward judge = http(server.url(), "retries", "3", "backoff", "10ms");
            RewardException e = assertThrows(RewardException.class, () -> judge.scoreGroup(group("g-422")));
            assertTrue(e.getMessage().contains("HTTP 422") && e.getMessage().contains("bad field"), e.getMessage());
            assertEquals(1, server.requests());
            assertEquals(0, judge.stats().retries());
        }
    }

    @Test
    void unusableAnswersFailWithTheirReasonAndTheNextGroupIsScored() throws Exception {
        List<String> answers = List.of("{\"rewards\": [1.0, 0.0]}", "{\"rewards\": [1.0, NaN, 0.0, 1.0]}", "<html>oops</html>",
                "{\"scores\": [1, 2, 3, 4]}", "{\"rewards\": [1, \"x\", 0, 0]}", "{\"rewards\": [0.5, 0.25, 0.0, 1.0]}");
        try (FaultServer server = new FaultServer((n, body) -> FaultServer.Answer.ok(answers.get(n - 1)))) {
            HttpReward judge = http(server.url(), "retries", "3");
            List<String> expected = List.of("2 rewards for 4 completions", "rewards[1] is NaN", "not JSON", "no \"rewards\" array",
                    "rewards[1] is \"x\", not a number");
            for (String reason : expected) {
                RewardException e = assertThrows(RewardException.class, () -> judge.scoreGroup(group("g-bad")));
                assertTrue(e.getMessage().contains(reason), "expected '" + reason + "' in: " + e.getMessage());
            }
            assertEquals(expected.size(), server.requests(), "bad answers are not retried");
            List<ComponentScore> ok = judge.scoreGroup(group("g-good"));
            assertEquals(List.of(0.5, 0.25, 0.0, 1.0), ok.stream().map(ComponentScore::value).toList());
            assertEquals(5, judge.stats().badResponses());
        }
    }

    @Test
    void theCircuitOpensAfterRepeatedFailuresAndRefusesWithoutCalling() throws Exception {
        try (FaultServer server = new FaultServer((n, body) -> FaultServer.Answer.status(503))) {
            HttpReward judge = http(server.url(), "retries", "0", "breaker-failures", "2", "breaker-open", "10m");
            assertThrows(RewardUnavailableException.class, () -> judge.scoreGroup(group("g-1")));
            assertThrows(RewardUnavailableException.class, () -> judge.scoreGroup(group("g-2")));
            RewardUnavailableException e = assertThrows(RewardUnavailableException.class, () -> judge.scoreGroup(group("g-3")));
            assertTrue(e.getMessage().contains("circuit open"), e.getMessage());
            assertEquals(2, server.requests(), "an open circuit sends nothing");
            assertEquals(1, judge.stats().rejectedOpen());
        }
    }

    @Test
    void whileTheCircuitIsOpenAGroupWaitsForTheProbeAndIsScoredWhenItSucceeds() throws Exception {
        try (FaultServer server = new FaultServer((n, body) -> n <= 2 ? FaultServer.Answer.status(500)
                : FaultServer.Answer.ok("{\"rewards\": [1, 1, 1, 1]}"))) {
            HttpReward judge = http(server.url(), "retries", "0", "breaker-failures", "2", "breaker-open", "300ms");
            assertThrows(RewardUnavailableException.class, () -> judge.scoreGroup(group("g-1")));
            assertThrows(RewardUnavailableException.class, () -> judge.scoreGroup(group("g-2")));
            // open now: the next group waits for the probe (within its patience), which succeeds and closes the circuit
            assertEquals(4, judge.scoreGroup(group("g-3")).size());
            assertEquals(3, server.requests());
            judge.scoreGroup(group("g-4"));
            assertEquals(4, server.requests());
            assertEquals(0, judge.stats().rejectedOpen());
        }
    }

    @Test
    void withNoPatienceAnOpenCircuitRefusesAtOnce() throws Exception {
        try (FaultServer server = new FaultServer((n, body) -> FaultServer.Answer.status(500))) {
            HttpReward judge = http(server.url(), "retries", "0", "breaker-failures", "1", "breaker-open", "1m", "patience", "0s");
            assertThrows(RewardUnavailableException.class, () -> judge.scoreGroup(group("g-1")));
            RewardUnavailableException e = assertThrows(RewardUnavailableException.class, () -> judge.scoreGroup(group("g-2")));
            assertTrue(e.getMessage().contains("circuit open"), e.getMessage());
            assertEquals(1, server.requests());
        }
    }

    @Test
    void aServerThatIsDownIsUnavailableAndScoresOnceItIsUp() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        HttpReward judge = http("http://127.0.0.1:" + port + "/score", "retries", "1", "backoff", "10ms", "timeout", "2s");
        RewardUnavailableException e = assertThrows(RewardUnavailableException.class, () -> judge.scoreGroup(group("g-down")));
        assertTrue(e.getMessage().contains("cannot connect"), e.getMessage());
        assertEquals(2, judge.stats().connectErrors());
        try (PythonServer server = PythonServer.start(port)) {
            List<ComponentScore> scores = judge.scoreGroup(group("g-down"));
            for (int i = 0; i < 4; i++) {
                assertEquals(CORRECT[i], scores.get(i).value(), 0.0);
            }
        }
    }

    @Test
    void atMostConcurrencyRequestsAreInFlight() throws Exception {
        try (FaultServer server = new FaultServer((n, body) -> new FaultServer.Answer(200, "{\"rewards\": [0, 0, 0, 0]}", 150))) {
            HttpReward judge = http(server.url(), "concurrency", "2");
            ExecutorService callers = Executors.newFixedThreadPool(8);
            try {
                List<Future<List<ComponentScore>>> calls = new ArrayList<>();
                for (int i = 0; i < 8; i++) {
                    String id = "g-" + i;
                    calls.add(callers.submit(() -> judge.scoreGroup(group(id))));
                }
                for (Future<List<ComponentScore>> f : calls) {
                    assertEquals(4, f.get().size());
                }
            } finally {
                callers.shutdownNow();
            }
            assertEquals(8, server.requests());
            assertTrue(server.maxInFlight() <= 2, "max in flight " + server.maxInFlight());
        }
    }

    @Test
    void optionsAreChecked() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> http("http://x/score", "retrys", "2"));
        assertTrue(e.getMessage().contains("retrys"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> http("ftp://x/score"));
        assertTrue(e.getMessage().contains("http://"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> http("http://x/score", "timeout", "soon"));
        assertTrue(e.getMessage().contains("timeout"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new CompositeReward(RewardConfig.parse("judge=1,judge.type=http")));
        assertTrue(e.getMessage().contains("judge.url"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new CompositeReward(RewardConfig.parse("judge=1,judge.type=grpc")));
        assertTrue(e.getMessage().contains("unknown type 'grpc'"), e.getMessage());
    }

}
