package dev.flowblend.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A point's figures from its records: nearest-rank percentiles, the window, throughput; and its charts. */
class LoadPointTest {
    static final long S = 1_000_000_000L;

    /** A record whose origin and end are given in seconds (its latency from them), status as given. */
    static LoadRun.Record rec(int i, String status, double originS, double endS, double wallMs) {
        long o = Math.round(originS * S);
        long e = Math.round(endS * S);
        return new LoadRun.Record(i, "p", i, true, status, null, 0, 0, wallMs, null, Map.of("w", 2), o, e,
                (e - o) / 1e6, null, Map.of("sampling_ms", wallMs / 2, "video_encode_ms", 1.0));
    }

    @Test
    void percentile_p99NearestRank_hundredValues_ninetyNinthTwoHundred_theLast() {
        List<Double> v = new ArrayList<>();
        for (int i = 1; i <= 100; i++) {
            v.add((double) i);
        }
        assertEquals(99.0, LoadRun.percentile(v, 99));
        assertEquals(50.0, LoadRun.percentile(v, 50));
        assertEquals(95.0, LoadRun.percentile(v, 95));
        List<Double> w = new ArrayList<>();
        for (int i = 1; i <= 200; i++) {
            w.add((double) i);
        }
        assertEquals(198.0, LoadRun.percentile(w, 99));  // ceil(0.99 * 200) = 198
        // below 100 values p99 is the maximum: ceil(0.99 * 10) = 10
        assertEquals(10.0, LoadRun.percentile(List.of(1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0), 99));
    }

    @Test
    void figures_closedLoop_windowFirstOriginToLastEnd_percentilesOfCompletedOnly() {
        List<LoadRun.Record> r = List.of(
                rec(0, "OK", 10.0, 10.1, 100),
                rec(1, "OK", 10.0, 10.4, 400),
                rec(2, "UNAVAILABLE", 10.1, 10.2, 100),
                rec(3, "OK", 10.1, 10.3, 200),
                rec(4, "DEADLINE_EXCEEDED", 10.2, 12.0, 1800));
        Map<String, Object> f = LoadPoint.figures("large-only", new LoadPoint.Load(4, null), r, 5, 0, 2.5);
        assertEquals(List.of("plan", "loop", "concurrency", "arrivals", "generations", "accepted", "completed",
                "window_s", "throughput_per_s", "p50_ms", "p95_ms", "p99_ms", "max_ms", "mean_timings_ms", "by_status",
                "dropped_by_client", "run_s", "steps_by_worker"), new ArrayList<>(f.keySet()));
        assertEquals("large-only", f.get("plan"));
        // the orchestrator's timings, averaged over the three that completed
        assertEquals(Map.of("sampling_ms", 116.667, "video_encode_ms", 1.0), f.get("mean_timings_ms"));
        assertEquals("closed", f.get("loop"));
        assertEquals(4, f.get("concurrency"));
        assertEquals(5, f.get("generations"));
        assertEquals(3, f.get("completed"));
        assertEquals(2.0, f.get("window_s"));          // 10.0 to the deadline's end at 12.0
        assertEquals(1.5, f.get("throughput_per_s"));  // 3 completed / 2 s
        assertEquals(200.0, f.get("p50_ms"));          // of 100, 200, 400 (failures left out)
        assertEquals(400.0, f.get("p95_ms"));
        assertEquals(400.0, f.get("p99_ms"));
        assertEquals(400.0, f.get("max_ms"));
        assertEquals(Map.of("OK", 3, "UNAVAILABLE", 1, "DEADLINE_EXCEEDED", 1), f.get("by_status"));
        assertEquals(0, f.get("dropped_by_client"));
        assertEquals(Map.of("w", 10), f.get("steps_by_worker"));
        String row = LoadPoint.row(f);
        assertTrue(row.startsWith("large-only       concurrency 4 "), row);
        assertTrue(row.endsWith("{DEADLINE_EXCEEDED=1, UNAVAILABLE=1}"), row);
    }

    @Test
    void figures_nothingRan_nullsNotZeros_nothingCompleted_throughputZero() {
        Map<String, Object> none = LoadPoint.figures("x", new LoadPoint.Load(null, 1.0), List.of(), 0, 0, 0.1);
        assertNull(none.get("window_s"));
        assertNull(none.get("throughput_per_s"));
        assertNull(none.get("p50_ms"));
        assertEquals(0.0, none.get("max_start_late_ms"));
        Map<String, Object> failed = LoadPoint.figures("x", new LoadPoint.Load(null, 1.0),
                List.of(rec(0, "UNAVAILABLE", 1, 2, 1000)), 1, 0, 1);
        assertEquals(0.0, failed.get("throughput_per_s"));
        assertNull(failed.get("p99_ms"));
        assertTrue(LoadPoint.row(failed).contains("rate 1/s"), LoadPoint.row(failed));
    }

    @Test
    void metricLines_unusedPoolAndModelLeftOut_errorsAndQueueShown() {
        Map<String, Object> used = new java.util.LinkedHashMap<>();
        used.put("worker", "large-0");
        used.put("model", "velocity-large");
        used.put("utilisation", 0.6654);
        used.put("mean_batch", 5.195);
        used.put("mean_queue_wait_ms", 3.401);
        used.put("batches", 308.0);
        Map<String, Object> idle = new java.util.LinkedHashMap<>(used);
        idle.put("model", "velocity-small");
        idle.put("batches", 0.0);
        Map<String, Object> metrics = Map.of(
                "pools", List.of(Map.of("pool", "large", "steps", 800.0, "mean_step_ms", 24.982),
                        Map.of("pool", "small", "steps", 0.0)),
                "workers", List.of(used, idle),
                "generations_queued_max", 3.0, "generations_queued_samples", 27,
                "errors", List.of(Map.of("url", "http://x/metrics", "phase", "after", "error", "HTTP 503")));
        assertEquals(List.of(
                "    pool large    steps 800      mean step 24.982 ms",
                "    large-0    velocity-large   utilisation 0.6654  mean batch 5.195   mean queue 3.401 ms",
                "    orchestrator generations queued: max 3 (27 samples between the scrapes)",
                "    metrics http://x/metrics (after): HTTP 503"), LoadPoint.metricLines(metrics));
    }

    @Test
    void load_exactlyOneOfConcurrencyAndRate() {
        assertThrows(IllegalArgumentException.class, () -> new LoadPoint.Load(null, null));
        assertThrows(IllegalArgumentException.class, () -> new LoadPoint.Load(1, 1.0));
        assertEquals("rate 0.5/s", new LoadPoint.Load(null, 0.5).label());
        assertFalse(new LoadPoint.Load(3, null).open());
    }

    @Test
    void charts_twoPlansTwoLoads_seriesPerPlanSortedByLoad_pngsWritten(@TempDir Path dir) throws Exception {
        List<Map<String, Object>> points = List.of(
                Map.of("plan", "a", "concurrency", 4, "throughput_per_s", 2.0, "p95_ms", 900.0),
                Map.of("plan", "b", "concurrency", 4, "throughput_per_s", 3.0, "p95_ms", 700.0),
                Map.of("plan", "b", "concurrency", 1, "throughput_per_s", 1.0, "p95_ms", 400.0),
                Map.of("plan", "a", "concurrency", 1, "throughput_per_s", 0.8, "p95_ms", 500.0));
        Map<String, List<double[]>> s = LoadCharts.series(points, "throughput_per_s");
        assertEquals(List.of("a", "b"), new ArrayList<>(s.keySet()));
        assertArrayEquals(new double[] {1, 0.8}, s.get("a").get(0));
        assertArrayEquals(new double[] {4, 2.0}, s.get("a").get(1));
        assertArrayEquals(new double[] {1, 1.0}, s.get("b").get(0));
        List<Path> written = LoadCharts.write(points, false, dir.resolve("charts"));
        assertEquals(List.of(dir.resolve("charts/throughput.png"), dir.resolve("charts/p95.png")), written);
        for (Path p : written) {
            byte[] png = Files.readAllBytes(p);
            assertTrue(png.length > 1000 && png[1] == 'P' && png[2] == 'N' && png[3] == 'G', p.toString());
        }
    }
}
