package dev.flowblend.cli;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * The figures of one point of a load (one plan at one concurrency or rate), from its records.
 *
 * <p>Latency is each generation's {@link LoadRun.Record#latencyMs}: from its scheduled arrival in
 * an open loop, from its start in a closed loop; percentiles are nearest-rank over the generations
 * that completed (status OK). The measuring window runs from the first generation's origin (its
 * arrival, or its start) to the last generation's end, whatever that one's status: throughput is
 * completed generations per second of that window.
 */
final class LoadPoint {
    private LoadPoint() {
    }

    /** Per phase, the mean over completed generations of the orchestrator's timings (empty if none completed). */
    static Map<String, Double> meanTimings(List<LoadRun.Record> records) {
        Map<String, Double> sum = new LinkedHashMap<>();
        int n = 0;
        for (LoadRun.Record r : records) {
            if (r.ok() && !r.timingsMs().isEmpty()) {
                r.timingsMs().forEach((k, v) -> sum.merge(k, v, Double::sum));
                n++;
            }
        }
        Map<String, Double> mean = new LinkedHashMap<>();
        for (Map.Entry<String, Double> e : sum.entrySet()) {
            mean.put(e.getKey(), LoadMetrics.round(e.getValue() / n, 3));
        }
        return mean;
    }

    /** A point's load: exactly one of {@code concurrency} (closed loop) and {@code rate} (open loop, videos/s). */
    record Load(Integer concurrency, Double rate) {
        Load {
            if ((concurrency == null) == (rate == null)) {
                throw new IllegalArgumentException("a load is a concurrency or a rate, not both or neither");
            }
        }

        boolean open() {
            return rate != null;
        }

        double value() {
            return open() ? rate : concurrency;
        }

        String label() {
            return open() ? "rate " + fmt(rate) + "/s" : "concurrency " + concurrency;
        }
    }

    /**
     * The point's figures, in the order the JSON lists them: its plan and load, generations
     * (started), completed, throughput and window, latency p50/p95/p99/max, errors by status,
     * arrivals dropped by the client's in-flight cap, and the largest start lateness (open loop).
     */
    static Map<String, Object> figures(String plan, Load load, List<LoadRun.Record> records, int arrivals,
                                       int droppedByClient, double runSeconds) {
        List<Double> latencies = new ArrayList<>();
        Map<String, Integer> byStatus = new TreeMap<>();
        Map<String, Integer> byWorker = new TreeMap<>();
        long first = Long.MAX_VALUE;
        long last = Long.MIN_VALUE;
        double late = 0;
        int accepted = 0;
        for (LoadRun.Record r : records) {
            byStatus.merge(r.status(), 1, Integer::sum);
            accepted += r.accepted() ? 1 : 0;
            if (r.ok()) {
                latencies.add(r.latencyMs());
            }
            r.stepsByWorker().forEach((w, n) -> byWorker.merge(w, n, Integer::sum));
            first = Math.min(first, r.originNanos());
            last = Math.max(last, r.endNanos());
            late = Math.max(late, r.latencyMs() - r.wallMs());
        }
        latencies.sort(null);
        Double window = records.isEmpty() ? null : (last - first) / 1e9;
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("plan", plan);
        m.put("loop", load.open() ? "open" : "closed");
        if (load.open()) {
            m.put("rate", load.rate());
        } else {
            m.put("concurrency", load.concurrency());
        }
        m.put("arrivals", arrivals);
        m.put("generations", records.size());
        m.put("accepted", accepted);
        m.put("completed", latencies.size());
        m.put("window_s", window == null ? null : LoadMetrics.round(window, 3));
        m.put("throughput_per_s", window == null || window <= 0 ? null
                : LoadMetrics.round(latencies.size() / window, 4));
        m.put("p50_ms", LoadRun.percentile(latencies, 50));
        m.put("p95_ms", LoadRun.percentile(latencies, 95));
        m.put("p99_ms", LoadRun.percentile(latencies, 99));
        m.put("max_ms", latencies.isEmpty() ? null : latencies.get(latencies.size() - 1));
        m.put("mean_timings_ms", meanTimings(records));
        m.put("by_status", byStatus);
        m.put("dropped_by_client", droppedByClient);
        if (load.open()) {
            m.put("max_start_late_ms", LoadMetrics.round(late, 1));
        }
        m.put("run_s", LoadMetrics.round(runSeconds, 2));
        m.put("steps_by_worker", byWorker);
        return m;
    }

    static final String HEADER = String.format(Locale.ROOT, "%-16s %-18s %6s %6s %8s %9s %9s %9s %9s %7s  %s",
            "plan", "load", "gens", "done", "per_s", "p50_ms", "p95_ms", "p99_ms", "max_ms", "dropped", "errors");

    /** One table row of a point's figures (as {@link #figures} made them). */
    static String row(Map<String, Object> f) {
        Map<String, Integer> byStatus = cast(f.get("by_status"));
        Map<String, Integer> errors = new TreeMap<>(byStatus);
        errors.remove("OK");
        String load = f.containsKey("rate") ? "rate " + fmt((Double) f.get("rate")) + "/s"
                : "concurrency " + f.get("concurrency");
        return String.format(Locale.ROOT, "%-16s %-18s %6s %6s %8s %9s %9s %9s %9s %7s  %s", f.get("plan"), load,
                f.get("generations"), f.get("completed"), dash(f.get("throughput_per_s")), dash(f.get("p50_ms")),
                dash(f.get("p95_ms")), dash(f.get("p99_ms")), dash(f.get("max_ms")), f.get("dropped_by_client"),
                errors.isEmpty() ? "-" : errors.toString());
    }

    /** The metrics lines under a point's row: per pool step time, per worker model utilisation, batch and queue. */
    static List<String> metricLines(Map<String, Object> metrics) {
        List<String> out = new ArrayList<>();
        for (Map<String, Object> p : LoadPoint.<List<Map<String, Object>>>cast(metrics.get("pools"))) {
            if (p.get("steps") instanceof Double d && d == 0) {
                continue;  // a pool the point's plan did not use
            }
            out.add(String.format(Locale.ROOT, "    pool %-8s steps %-8s mean step %s ms", p.get("pool"),
                    dash(p.get("steps")), dash(p.get("mean_step_ms"))));
        }
        for (Map<String, Object> w : LoadPoint.<List<Map<String, Object>>>cast(metrics.get("workers"))) {
            Object batches = w.get("batches");
            if (batches instanceof Double d && d == 0) {
                continue;  // a model the point did not use (e.g. small-only's large velocity): nothing to say
            }
            out.add(String.format(Locale.ROOT, "    %-10s %-16s utilisation %-7s mean batch %-7s mean queue %s ms",
                    w.get("worker"), w.get("model"), dash(w.get("utilisation")), dash(w.get("mean_batch")),
                    dash(w.get("mean_queue_wait_ms"))));
        }
        if (metrics.get("generations_queued_max") != null) {
            out.add("    orchestrator generations queued: max " + dash(metrics.get("generations_queued_max"))
                    + " (" + metrics.get("generations_queued_samples") + " samples between the scrapes)");
        }
        for (Map<String, Object> e : LoadPoint.<List<Map<String, Object>>>cast(metrics.get("errors"))) {
            out.add("    metrics " + e.get("url") + " (" + e.get("phase") + "): " + e.get("error"));
        }
        return out;
    }

    private static String dash(Object v) {
        if (v == null) {
            return "-";
        }
        return v instanceof Double d ? fmt(d) : v.toString();
    }

    static String fmt(double v) {
        return v == Math.rint(v) && Math.abs(v) < 1e15 ? String.valueOf((long) v) : String.valueOf(v);
    }

    @SuppressWarnings("unchecked")
    private static <T> T cast(Object o) {
        return (T) o;
    }
}
