package dev.flowblend.cli;

import static dev.flowblend.cli.CliRun.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.flowblend.proto.generation.GenerateEvent;
import dev.flowblend.proto.generation.GenerateRequest;
import dev.flowblend.runtime.Json;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The load command end to end in this JVM: its flags' mistakes, and its JSON against a fake orchestrator on TCP. */
class LoadCommandTest {


    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "zero rate|--rate=0|--rate is 0; must be more than 0 and at most 1000 videos/s",
        "negative rate|--rate=-0.5|--rate is -0.5; must be more than 0 and at most 1000 videos/s",
        "rate not a number|--rate=fast|--rate 'fast' is not a number; must be more than 0 and at most 1000 videos/s",
        "both loops|--rate=1 --concurrency=2|--rate and --concurrency exclude each other (open loop or closed loop); give one",
        "empty list|--concurrency=|--concurrency '' has an empty item; give one or more values, comma-separated: 1 to 1024",
        "empty item|--concurrency=1,,4|--concurrency '1,,4' has an empty item",
        "empty rates|--rate=1,|--rate '1,' has an empty item",
        "concurrency 0|--concurrency=0|--concurrency is 0; must be 1 to 1024",
        "concurrency in a list too big|--concurrency=1,2000|--concurrency is 2000; must be 1 to 1024",
        "unknown plan|--plans=large-only,fastest|--plans 'fastest' is neither a preset [flowblending, large-only, small-only] nor a plan file",
        "empty plans|--plans=|--plans '' has an empty item",
        "plan twice|--plans=large-only,large-only|--plans names 'large-only' twice",
        "plan and plans|--plan=large-only --plans=flowblending|--plan and --plans exclude each other; give one",
        "url without scheme|--metrics=127.0.0.1:9100|--metrics '127.0.0.1:9100' is not an http:// or https:// URL with a host",
        "url other scheme|--metrics=http://127.0.0.1:9100/metrics,ftp://h/metrics|--metrics 'ftp://h/metrics' is not an http:// or https:// URL",
        "count 0|--count=0|--count is 0; must be 1 to 100000",
        "cap 0|--rate=1 --max-in-flight=0|--max-in-flight is 0; must be 1 to 1024",
        "duration 0|--duration=0|--duration is 0.0 s; must be more than 0 and at most 86400",
        "negative warmup|--warmup=-1|--warmup is -1; must be 0 to 100000"})
    void load_badFlag_oneLineNamingFlagAndLimit_exit2_beforeAnyCall(String what, String args, String message) {
        List<String> a = new ArrayList<>(List.of("load", "--target", "127.0.0.1:1"));
        a.addAll(List.of(args.split(" ")));
        String[] r = run(a.toArray(String[]::new));
        assertEquals("2", r[0], what + ": " + r[2]);
        assertTrue(r[2].startsWith("flowblend load: " + message), what + ": " + r[2]);
        assertEquals(1, r[2].strip().lines().count(), "one line: " + r[2]);
        assertEquals("", r[1], "nothing ran");
    }

    /** LoadRunTest's fake, on a TCP port, noting the plan preset each request named. */
    private static Server server(List<String> plansSeen) throws Exception {
        LoadRunTest.FakeService fake = new LoadRunTest.FakeService();
        return NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                .addService(new dev.flowblend.proto.generation.GenerationServiceGrpc.GenerationServiceImplBase() {
                    @Override
                    public void generate(GenerateRequest r, StreamObserver<GenerateEvent> out) {
                        plansSeen.add(r.getPlan().getPreset() + "/" + r.getSeed());
                        fake.generate(r, out);
                    }
                }).executor(Executors.newCachedThreadPool()).build().start();
    }

    private static JsonNode lastLine(String stdout) throws Exception {
        List<String> lines = stdout.lines().toList();
        return Json.mapper().readTree(lines.get(lines.size() - 1));
    }

    private static List<String> keys(JsonNode n) {
        List<String> k = new ArrayList<>();
        n.fieldNames().forEachRemaining(k::add);
        return k;
    }

    @Test
    void load_onePointClosedLoop_existingTopLevelFieldsAndRecordsUnchanged_pointsAdded() throws Exception {
        List<String> seen = new CopyOnWriteArrayList<>();
        Server s = server(seen);
        try {
            String[] r = run("load", "--target", "127.0.0.1:" + s.getPort(), "--count", "4", "--concurrency", "2",
                    "--seed-base", "10", "--json");
            assertEquals("0", r[0], r[2]);
            JsonNode j = lastLine(r[1]);
            assertEquals(List.of("generations", "accepted", "completed", "by_status", "run_s", "p50_ms", "p95_ms",
                    "max_ms", "steps_by_worker", "records", "target", "concurrency", "stopped_by_file",
                    "loop", "count", "warmup", "points"), keys(j));
            assertEquals(4, j.get("generations").asInt());
            assertEquals(4, j.get("completed").asInt());
            assertEquals(2, j.get("concurrency").asInt());
            assertFalse(j.get("stopped_by_file").asBoolean());
            assertEquals("127.0.0.1:" + s.getPort(), j.get("target").asText());
            assertEquals(4, j.get("by_status").get("OK").asInt());
            assertEquals(8, j.get("steps_by_worker").get("w-a").asInt());
            JsonNode rec = j.get("records").get(0);
            assertEquals(List.of("index", "prompt", "seed", "accepted", "status", "start_epoch_ms", "end_epoch_ms",
                    "wall_ms", "frames_sha256", "steps_by_worker"), keys(rec));
            assertEquals(10, rec.get("seed").asLong());
            assertEquals(LoadRun.sha256("frames-10".getBytes(StandardCharsets.UTF_8)), rec.get("frames_sha256").asText());
            JsonNode p = j.get("points").get(0);
            assertEquals(1, j.get("points").size());
            assertEquals("default", p.get("plan").asText());
            assertEquals("closed", p.get("loop").asText());
            assertEquals(4, p.get("completed").asInt());
            assertEquals(j.get("p50_ms").asDouble(), p.get("p50_ms").asDouble(), "closed loop: latency is the wall time");
            assertTrue(p.get("throughput_per_s").asDouble() > 0);
            assertEquals(0, p.get("dropped_by_client").asInt());
            assertFalse(p.has("records") || p.has("metrics"));
            assertEquals(List.of("/10", "/11", "/12", "/13"), seen.stream().sorted().toList());
        } finally {
            s.shutdownNow();
        }
    }

    @Test
    void load_sweepTimesPlans_pointsInRotatedOrder_warmupUnrecorded_failedScrapeReportedNotFatal() throws Exception {
        List<String> seen = new CopyOnWriteArrayList<>();
        Server s = server(seen);
        try {
            String[] r = run("load", "--target", "127.0.0.1:" + s.getPort(), "--count", "2", "--concurrency", "1,2",
                    "--plans", "large-only,flowblending", "--warmup", "1", "--seed-base", "10",
                    "--metrics", "http://127.0.0.1:1/metrics", "--json");
            assertEquals("0", r[0], r[2]);
            JsonNode j = lastLine(r[1]);
            assertFalse(j.has("generations") || j.has("records"), "several points: no single-point fields");
            JsonNode points = j.get("points");
            List<String> order = new ArrayList<>();
            for (JsonNode p : points) {
                order.add(p.get("plan").asText() + "@" + p.get("concurrency").asInt());
                assertEquals(2, p.get("completed").asInt());
                JsonNode errors = p.get("metrics").get("errors");
                assertEquals(1, errors.size());
                assertEquals("before", errors.get(0).get("phase").asText());
            }
            assertEquals(List.of("large-only@1", "flowblending@1", "flowblending@2", "large-only@2"), order);
            // per point: one warm-up (seed base + 10^9) then the two recorded, with the point's plan
            List<String> expected = new ArrayList<>();
            for (String plan : List.of("large-only", "flowblending", "flowblending", "large-only")) {
                expected.addAll(List.of(plan + "/1000000010", plan + "/10", plan + "/11"));
            }
            List<String> got = new ArrayList<>(seen);
            for (int k = 0; k < 4; k++) {  // within a point of concurrency 2 the two recorded may swap
                List<String> sub = got.subList(3 * k + 1, 3 * k + 3);
                sub.sort(null);
            }
            assertEquals(expected, got);
            assertTrue(r[1].contains("warmup: 1 of 1 generations completed (not recorded)"), r[1]);
        } finally {
            s.shutdownNow();
        }
    }

    @Test
    void load_onePointOpenLoop_rateAtTopLevel_recordsCarryScheduleAndLatency() throws Exception {
        Server s = server(new CopyOnWriteArrayList<>());
        try {
            String[] r = run("load", "--target", "127.0.0.1:" + s.getPort(), "--count", "3", "--rate", "20",
                    "--seed-base", "10", "--arrival-seed", "9", "--json");
            assertEquals("0", r[0], r[2]);
            JsonNode j = lastLine(r[1]);
            assertEquals(20.0, j.get("rate").asDouble());
            assertFalse(j.has("concurrency"));
            assertEquals("open", j.get("loop").asText());
            assertEquals(9, j.get("arrival_seed").asLong());
            assertEquals(1024, j.get("max_in_flight").asInt());
            long[] at = LoadSchedule.poisson(20, 9, 3, 0);
            Iterator<JsonNode> recs = j.get("records").elements();
            for (long t : at) {
                JsonNode rec = recs.next();
                assertEquals(Math.round(t / 1e5) / 10.0, rec.get("scheduled_ms").asDouble());
                assertTrue(rec.get("latency_ms").asDouble() >= rec.get("wall_ms").asDouble());
            }
            JsonNode p = j.get("points").get(0);
            assertEquals(3, p.get("arrivals").asInt());
            assertEquals(3, p.get("completed").asInt());
            assertEquals(20.0, p.get("rate").asDouble());
            assertTrue(p.has("max_start_late_ms"));
        } finally {
            s.shutdownNow();
        }
    }
}
