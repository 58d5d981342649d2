package dev.flowblend.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import dev.flowblend.cli.LoadMetrics.Scrape;
import dev.flowblend.cli.LoadMetricsText.Sample;
import dev.flowblend.cli.LoadMetricsText.Series;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The Prometheus text parser and the before/after arithmetic, on texts in the shape the processes write. */
class LoadMetricsTest {

    /** A worker's endpoint, as Micrometer writes it (trimmed), before a point. */
    static final String WORKER_BEFORE = """
            # HELP flowblend_inference_busy_seconds_total model time of executed batches (its rate is the model's utilisation)
            # TYPE flowblend_inference_busy_seconds_total counter
            flowblend_inference_busy_seconds_total{model="velocity-large",role="large",worker="large-0"} 10.0
            flowblend_inference_busy_seconds_total{model="decoder",role="large",worker="large-0"} 1.5
            # HELP flowblend_inference_count_total samples inferred
            # TYPE flowblend_inference_count_total counter
            flowblend_inference_count_total{model="velocity-large",role="large",worker="large-0"} 400.0
            flowblend_inference_count_total{model="decoder",role="large",worker="large-0"} 8.0
            # HELP flowblend_inference_exec_count_total batches executed
            # TYPE flowblend_inference_exec_count_total counter
            flowblend_inference_exec_count_total{model="velocity-large",role="large",worker="large-0"} 300.0
            flowblend_inference_exec_count_total{model="decoder",role="large",worker="large-0"} 8.0
            # HELP flowblend_inference_queue_duration_seconds time a request waited for its batch to start
            # TYPE flowblend_inference_queue_duration_seconds histogram
            flowblend_inference_queue_duration_seconds_bucket{model="velocity-large",role="large",worker="large-0",le="0.001"} 250.0
            flowblend_inference_queue_duration_seconds_bucket{model="velocity-large",role="large",worker="large-0",le="+Inf"} 300.0
            flowblend_inference_queue_duration_seconds_count{model="velocity-large",role="large",worker="large-0"} 300.0
            flowblend_inference_queue_duration_seconds_sum{model="velocity-large",role="large",worker="large-0"} 0.9
            flowblend_inference_queue_duration_seconds_count{model="decoder",role="large",worker="large-0"} 8.0
            flowblend_inference_queue_duration_seconds_sum{model="decoder",role="large",worker="large-0"} 0.0
            # HELP flowblend_inference_queue_duration_seconds_max time a request waited for its batch to start
            # TYPE flowblend_inference_queue_duration_seconds_max gauge
            flowblend_inference_queue_duration_seconds_max{model="velocity-large",role="large",worker="large-0"} 0.012
            jvm_threads_live_threads 31.0
            """;

    /** The same endpoint 20 s later: 500 more samples in 250 more batches, 15 s of model time. */
    static final String WORKER_AFTER = WORKER_BEFORE
            .replace("worker=\"large-0\"} 10.0", "worker=\"large-0\"} 25.0")
            .replace("count_total{model=\"velocity-large\",role=\"large\",worker=\"large-0\"} 400.0",
                    "count_total{model=\"velocity-large\",role=\"large\",worker=\"large-0\"} 900.0")
            .replace("exec_count_total{model=\"velocity-large\",role=\"large\",worker=\"large-0\"} 300.0",
                    "exec_count_total{model=\"velocity-large\",role=\"large\",worker=\"large-0\"} 550.0")
            .replace("seconds_count{model=\"velocity-large\",role=\"large\",worker=\"large-0\"} 300.0",
                    "seconds_count{model=\"velocity-large\",role=\"large\",worker=\"large-0\"} 800.0")
            .replace("seconds_sum{model=\"velocity-large\",role=\"large\",worker=\"large-0\"} 0.9",
                    "seconds_sum{model=\"velocity-large\",role=\"large\",worker=\"large-0\"} 3.4");

    static final String ORCH_BEFORE = """
            # TYPE flowblend_step_duration_seconds histogram
            flowblend_step_duration_seconds_count{pool="large"} 100.0
            flowblend_step_duration_seconds_sum{pool="large"} 5.0
            flowblend_step_duration_seconds_count{pool="small"} 40.0
            flowblend_step_duration_seconds_sum{pool="small"} 0.8
            # TYPE flowblend_generations_queued gauge
            flowblend_generations_queued 0.0
            """;

    static final String ORCH_AFTER = """
            flowblend_step_duration_seconds_count{pool="large"} 300.0
            flowblend_step_duration_seconds_sum{pool="large"} 13.0
            flowblend_step_duration_seconds_count{pool="small"} 40.0
            flowblend_step_duration_seconds_sum{pool="small"} 0.8
            flowblend_generations_queued 2.0
            """;

    /**
     * Lines exactly as the demo cluster's large worker served them (./flowblend worker --cluster
     * deploy/demo.json --name large-0 --metrics-port 9101), before and after the load of
     * docs/load.md's example; a subset of the 845 lines.
     */
    static final String REAL_WORKER_BEFORE = """
            # HELP flowblend_inference_busy_seconds_total model time of executed batches (its rate is the model's utilisation)
            # TYPE flowblend_inference_busy_seconds_total counter
            flowblend_inference_busy_seconds_total{model="decoder",role="large",worker="large-0"} 0.0
            flowblend_inference_busy_seconds_total{model="text-encoder",role="large",worker="large-0"} 0.0
            flowblend_inference_busy_seconds_total{model="velocity-large",role="large",worker="large-0"} 0.0
            # HELP flowblend_inference_count_total samples inferred
            # TYPE flowblend_inference_count_total counter
            flowblend_inference_count_total{model="decoder",role="large",worker="large-0"} 0.0
            flowblend_inference_count_total{model="text-encoder",role="large",worker="large-0"} 0.0
            flowblend_inference_count_total{model="velocity-large",role="large",worker="large-0"} 0.0
            # HELP flowblend_inference_exec_count_total batches executed
            # TYPE flowblend_inference_exec_count_total counter
            flowblend_inference_exec_count_total{model="decoder",role="large",worker="large-0"} 0.0
            flowblend_inference_exec_count_total{model="text-encoder",role="large",worker="large-0"} 0.0
            flowblend_inference_exec_count_total{model="velocity-large",role="large",worker="large-0"} 0.0
            # HELP flowblend_inference_queue_duration_seconds time a request waited for its batch to start
            # TYPE flowblend_inference_queue_duration_seconds histogram
            flowblend_inference_queue_duration_seconds_bucket{model="velocity-large",role="large",worker="large-0",le="1.0E-4"} 0
            flowblend_inference_queue_duration_seconds_bucket{model="velocity-large",role="large",worker="large-0",le="+Inf"} 0
            flowblend_inference_queue_duration_seconds_count{model="velocity-large",role="large",worker="large-0"} 0
            flowblend_inference_queue_duration_seconds_sum{model="velocity-large",role="large",worker="large-0"} 0.0
            """;

    static final String REAL_WORKER_AFTER = """
            # HELP flowblend_inference_busy_seconds_total model time of executed batches (its rate is the model's utilisation)
            # TYPE flowblend_inference_busy_seconds_total counter
            flowblend_inference_busy_seconds_total{model="decoder",role="large",worker="large-0"} 0.6289829150000005
            flowblend_inference_busy_seconds_total{model="text-encoder",role="large",worker="large-0"} 0.009579663
            flowblend_inference_busy_seconds_total{model="velocity-large",role="large",worker="large-0"} 18.751189428999997
            # HELP flowblend_inference_count_total samples inferred
            # TYPE flowblend_inference_count_total counter
            flowblend_inference_count_total{model="decoder",role="large",worker="large-0"} 80.0
            flowblend_inference_count_total{model="text-encoder",role="large",worker="large-0"} 2.0
            flowblend_inference_count_total{model="velocity-large",role="large",worker="large-0"} 6400.0
            # HELP flowblend_inference_exec_count_total batches executed
            # TYPE flowblend_inference_exec_count_total counter
            flowblend_inference_exec_count_total{model="decoder",role="large",worker="large-0"} 76.0
            flowblend_inference_exec_count_total{model="text-encoder",role="large",worker="large-0"} 2.0
            flowblend_inference_exec_count_total{model="velocity-large",role="large",worker="large-0"} 2288.0
            # HELP flowblend_inference_queue_duration_seconds time a request waited for its batch to start
            # TYPE flowblend_inference_queue_duration_seconds histogram
            flowblend_inference_queue_duration_seconds_bucket{model="velocity-large",role="large",worker="large-0",le="1.0E-4"} 1683
            flowblend_inference_queue_duration_seconds_bucket{model="velocity-large",role="large",worker="large-0",le="1.09226E-4"} 1734
            flowblend_inference_queue_duration_seconds_bucket{model="velocity-large",role="large",worker="large-0",le="1.31071E-4"} 1795
            flowblend_inference_queue_duration_seconds_bucket{model="velocity-large",role="large",worker="large-0",le="+Inf"} 3200
            flowblend_inference_queue_duration_seconds_count{model="velocity-large",role="large",worker="large-0"} 3200
            flowblend_inference_queue_duration_seconds_sum{model="velocity-large",role="large",worker="large-0"} 6.91537677
            # HELP flowblend_inference_queue_duration_seconds_max time a request waited for its batch to start
            # TYPE flowblend_inference_queue_duration_seconds_max gauge
            flowblend_inference_queue_duration_seconds_max{model="decoder",role="large",worker="large-0"} 0.014564514
            flowblend_inference_queue_duration_seconds_max{model="text-encoder",role="large",worker="large-0"} 4.71821E-4
            flowblend_inference_queue_duration_seconds_max{model="velocity-large",role="large",worker="large-0"} 0.050301698
            """;

    /** The orchestrator's endpoint after the same load (port 9100), a subset. */
    static final String REAL_ORCH_AFTER = """
            # HELP flowblend_generations_queued generations admitted and waiting for a slot
            # TYPE flowblend_generations_queued gauge
            flowblend_generations_queued 0.0
            # HELP flowblend_step_duration_seconds one sampling step as the orchestrator saw it: send, worker queue and model, answer
            # TYPE flowblend_step_duration_seconds histogram
            flowblend_step_duration_seconds_bucket{pool="large",le="+Inf"} 3200
            flowblend_step_duration_seconds_count{pool="large"} 3200
            flowblend_step_duration_seconds_sum{pool="large"} 53.585807934
            flowblend_step_duration_seconds_count{pool="small"} 800
            flowblend_step_duration_seconds_sum{pool="small"} 5.285142442
            """;

    @Test
    void realCapture_demoClusterAfterALoad_figuresFromTheCountersAsServed() {
        Scrape before = Scrape.of("w", 0, REAL_WORKER_BEFORE);
        Scrape after = Scrape.of("w", 40_000_000_000L, REAL_WORKER_AFTER);  // taken as 40 s apart
        assertEquals(13, before.values().size());
        assertEquals(18, after.values().size());
        assertEquals("1.0E-4", LoadMetricsText.parse(REAL_WORKER_AFTER).get(9).series().labels().get("le"));
        assertEquals(4.71821E-4, LoadMetricsText.parse(REAL_WORKER_AFTER).get(16).value());
        List<Map<String, Object>> w = LoadMetrics.workers(before, after);
        assertEquals(List.of("decoder", "text-encoder", "velocity-large"), w.stream().map(m -> m.get("model")).toList());
        Map<String, Object> v = w.get(2);
        assertEquals(18.7512, v.get("busy_s"));
        assertEquals(0.4688, v.get("utilisation"));        // 18.751189429 s / 40 s
        assertEquals(2.797, v.get("mean_batch"));          // 6400 samples / 2288 batches
        assertEquals(2.161, v.get("mean_queue_wait_ms"));  // 6.91537677 s / 3200 requests
        assertNull(w.get(0).get("mean_queue_wait_ms"), "the excerpt has no decoder queue series");
        List<Map<String, Object>> p = LoadMetrics.pools(Scrape.of("o", 0, ""), Scrape.of("o", 1, REAL_ORCH_AFTER));
        assertEquals(16.746, p.get(0).get("mean_step_ms"));  // 53.585807934 s / 3200 steps
        assertEquals(6.606, p.get(1).get("mean_step_ms"));   // 5.285142442 s / 800 steps
        assertEquals(0.0, Scrape.of("o", 1, REAL_ORCH_AFTER).values().get(Series.of(LoadMetrics.QUEUED)));
    }

    @Test
    void parse_capturedText_skipsCommentsReadsLabelsAndValues() {
        List<Sample> s = LoadMetricsText.parse(WORKER_BEFORE);
        assertEquals(14, s.size());
        assertEquals(new Sample(Series.of("flowblend_inference_busy_seconds_total", "model", "velocity-large",
                "role", "large", "worker", "large-0"), 10.0), s.get(0));
        assertEquals("+Inf", s.get(7).series().labels().get("le"));
        assertEquals(new Sample(Series.of("jvm_threads_live_threads"), 31.0), s.get(13));
    }

    @Test
    void parse_escapesInfNanTimestamps_andLabelOrderDoesNotMatter() {
        List<Sample> s = LoadMetricsText.parse("a{x=\"q\\\"uote\\\\d\\nline, {}\",y=\"2\"} +Inf\n"
                + "b{y=\"1\",x=\"2\",} -Inf 1700000000000\n\n  # comment\nc NaN\nd 1.5e3\n");
        assertEquals(4, s.size());
        assertEquals("q\"uote\\d\nline, {}", s.get(0).series().labels().get("x"));
        assertEquals(Double.POSITIVE_INFINITY, s.get(0).value());
        assertEquals(Series.of("b", "x", "2", "y", "1"), s.get(1).series());
        assertEquals(Double.NEGATIVE_INFINITY, s.get(1).value());
        assertTrue(Double.isNaN(s.get(2).value()));
        assertEquals(1500.0, s.get(3).value());
    }

    @Test
    void parse_malformedLine_namesItsNumber() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> LoadMetricsText.parse("ok 1\nbad{x=\"1\" 2\n"));
        assertTrue(e.getMessage().startsWith("metrics line 2 'bad{x=\"1\" 2': "), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> LoadMetricsText.parse("x one\n"));
        assertEquals("metrics line 1 'x one': value 'one' is not a number", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> LoadMetricsText.parse("x{y=1} 2\n"));
        assertThrows(IllegalArgumentException.class, () -> LoadMetricsText.parse("x\n"));
    }

    @Test
    void workers_twoCapturedTexts_utilisationMeanBatchAndQueueWaitFromTheDifferences() {
        Scrape before = Scrape.of("w", 1_000_000_000L, WORKER_BEFORE);
        Scrape after = Scrape.of("w", 21_000_000_000L, WORKER_AFTER);  // 20 s later
        List<Map<String, Object>> w = LoadMetrics.workers(before, after);
        assertEquals(2, w.size());
        Map<String, Object> decoder = w.get(0);  // sorted by labels: decoder before velocity-large
        assertEquals("decoder", decoder.get("model"));
        assertEquals(0.0, decoder.get("busy_s"));
        assertEquals(0.0, decoder.get("utilisation"));
        assertEquals(0.0, decoder.get("batches"));
        assertNull(decoder.get("mean_batch"), "no batch in the window: no mean");
        Map<String, Object> v = w.get(1);
        assertEquals("large-0", v.get("worker"));
        assertEquals("large", v.get("role"));
        assertEquals("velocity-large", v.get("model"));
        assertEquals(20.0, v.get("wall_s"));
        assertEquals(15.0, v.get("busy_s"));
        assertEquals(0.75, v.get("utilisation"));       // 15 s busy / 20 s
        assertEquals(250.0, v.get("batches"));
        assertEquals(500.0, v.get("samples"));
        assertEquals(2.0, v.get("mean_batch"));          // 500 samples / 250 batches
        assertEquals(5.0, v.get("mean_queue_wait_ms"));  // 2.5 s / 500 requests
    }

    @Test
    void pools_twoCapturedTexts_meanStepTimeFromTheDifferences() {
        List<Map<String, Object>> p = LoadMetrics.pools(Scrape.of("o", 0, ORCH_BEFORE), Scrape.of("o", 1, ORCH_AFTER));
        assertEquals(2, p.size());
        assertEquals(Map.of("url", "o", "pool", "large", "steps", 200.0, "mean_step_ms", 40.0), p.get(0));
        assertEquals("small", p.get(1).get("pool"));
        assertEquals(0.0, p.get(1).get("steps"));
        assertNull(p.get(1).get("mean_step_ms"));
    }

    @Test
    void delta_counterWentDown_countsItsAfterValue_absentAfter_null_newSeries_fromZero() {
        Series s = Series.of("c_total");
        Scrape before = Scrape.of("u", 0, "c_total 50\nold_total 3\n");
        assertEquals(7.0, LoadMetrics.delta(before, Scrape.of("u", 1, "c_total 7\n"), s), "restarted between scrapes");
        assertEquals(5.0, LoadMetrics.delta(before, Scrape.of("u", 1, "c_total 55\n"), s));
        assertNull(LoadMetrics.delta(before, Scrape.of("u", 1, "c_total 55\n"), Series.of("old_total")));
        assertEquals(4.0, LoadMetrics.delta(Scrape.of("u", 0, ""), Scrape.of("u", 1, "c_total 4\n"), s));
    }

    @Test
    void report_oneEndpointFailedAfter_itsErrorListedTheOthersReported() {
        List<Scrape> before = List.of(Scrape.of("http://o/metrics", 0, ORCH_BEFORE),
                Scrape.of("http://w/metrics", 0, WORKER_BEFORE));
        List<Scrape> after = List.of(Scrape.of("http://o/metrics", 1_000_000_000L, ORCH_AFTER),
                new Scrape("http://w/metrics", 1_000_000_000L, Map.of(), "HTTP 503"));
        Map<String, Object> r = LoadMetrics.report(before, after, 2.0, 4, 0);
        assertEquals(List.of(), r.get("workers"));
        assertEquals(2, ((List<?>) r.get("pools")).size());
        assertEquals(2.0, r.get("generations_queued_max"));
        assertEquals(List.of(Map.of("url", "http://w/metrics", "phase", "after", "error", "HTTP 503")), r.get("errors"));
    }

    @Test
    void window_fakeFetcher_samplesTheQueuedGaugeWhileOpen() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        LoadMetrics m = new LoadMetrics(List.of("http://o/metrics", "http://w/metrics"), url -> {
            if (url.contains("//w/")) {
                return WORKER_BEFORE;
            }
            int n = calls.incrementAndGet();  // 1: before; 2, 3, ...: samples; the last: after
            return ORCH_BEFORE.replace("flowblend_generations_queued 0.0", "flowblend_generations_queued "
                    + (n == 2 ? 5.0 : 1.0));
        });
        LoadMetrics.Window w = m.open();
        Thread.sleep(4 * LoadMetrics.SAMPLE_MILLIS);
        Map<String, Object> r = w.finish();
        assertEquals(5.0, r.get("generations_queued_max"), "the second scrape's value, seen only by sampling");
        assertTrue((Integer) r.get("generations_queued_samples") >= 1, r.toString());
        assertEquals(List.of(), r.get("errors"));
        int seen = calls.get();
        Thread.sleep(2 * LoadMetrics.SAMPLE_MILLIS);
        assertEquals(seen, calls.get(), "no sampling after finish");
        assertEquals(r, w.finish(), "idempotent");
    }

    @Test
    void http_realEndpoint_scrapedNon200AndNoServer_reportedAsErrorsNotThrown() throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/metrics", x -> {
            byte[] body = ORCH_AFTER.getBytes(StandardCharsets.UTF_8);
            x.sendResponseHeaders(200, body.length);
            x.getResponseBody().write(body);
            x.close();
        });
        server.createContext("/broken", x -> {
            x.sendResponseHeaders(500, -1);
            x.close();
        });
        server.start();
        try {
            String base = "http://127.0.0.1:" + server.getAddress().getPort();
            LoadMetrics m = new LoadMetrics(List.of(), LoadMetrics.http(Duration.ofSeconds(2), Duration.ofSeconds(3)));
            Scrape ok = m.scrape(base + "/metrics");
            assertTrue(ok.ok(), ok.error());
            assertEquals(2.0, ok.values().get(Series.of("flowblend_generations_queued")));
            Scrape broken = m.scrape(base + "/broken");
            assertFalse(broken.ok());
            assertEquals("IOException: HTTP 500", broken.error());
        } finally {
            server.stop(0);
        }
        LoadMetrics m = new LoadMetrics(List.of(), LoadMetrics.http(Duration.ofSeconds(2), Duration.ofSeconds(3)));
        Scrape refused = m.scrape("http://127.0.0.1:1/metrics");
        assertFalse(refused.ok());
        assertTrue(refused.error().startsWith("ConnectException"), refused.error());
        assertTrue(refused.values().isEmpty());
    }
}
