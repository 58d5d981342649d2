package dev.flowblend.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.flowblend.capacity.Costs;
import dev.flowblend.capacity.Fit;
import dev.flowblend.capacity.ModelCosts;
import dev.flowblend.runtime.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code capacity fit}: a costs file whose batch costs, step overhead and encoding time are what a
 * real deployment measured, from {@code load --metrics --json} reports. Batch costs come from the
 * workers' counters at every point (different loads, so different batch sizes: {@link Fit}), and
 * where the reports ran more than one plan, per plan as well (each model's {@code by_plan}); the
 * step overhead of each pool and the video encoding time from the points run by one client (no
 * queueing, no batching of generations): a pool's step overhead is its mean step time as the
 * orchestrator saw it minus the worker's mean queue wait and the fitted time of one step's batch
 * under that point's plan.
 */
@Command(name = "fit", mixinStandardHelpOptions = true,
        description = "Fit a costs file's batch costs, step overhead and video encoding time to load --metrics --json reports.")
final class CapacityFit implements Callable<Integer> {
    @Option(names = "--base", required = true, description = "Costs file giving the deployment's shape (pools, models, "
            + "placement, limits); its costs are replaced.")
    Path base;

    @Option(names = "--load", required = true, split = ",", description = "Reports of ./flowblend load --metrics ... --json "
            + "(files whose last line is the JSON), one or more.")
    List<Path> loads;

    @Option(names = "--out", required = true, description = "Where to write the fitted costs file.")
    Path out;

    @Override
    public Integer call() throws Exception {
        return CapacityCommand.guarded("fit", () -> {
            Costs costs = Costs.read(base);
            List<JsonNode> points = points(loads);
            Map<String, List<Fit.Observation>> byModel = new LinkedHashMap<>();
            Map<String, Map<String, List<Fit.Observation>>> byPlanModel = new LinkedHashMap<>();
            for (JsonNode pt : points) {
                String plan = pt.path("plan").asText("");
                for (JsonNode w : pt.path("metrics").path("workers")) {
                    if (w.path("batches").asLong() > 0 && w.hasNonNull("busy_s")) {
                        Fit.Observation o = new Fit.Observation(w.get("batches").asLong(), w.get("samples").asLong(),
                                w.get("busy_s").asDouble());
                        String model = w.get("model").asText();
                        byModel.computeIfAbsent(model, k -> new ArrayList<>()).add(o);
                        if (!plan.isEmpty()) {
                            byPlanModel.computeIfAbsent(model, k -> new LinkedHashMap<>())
                                    .computeIfAbsent(plan, k -> new ArrayList<>()).add(o);
                        }
                    }
                }
            }
            CapacityCommand.check(!byModel.isEmpty(), "--load: no point has worker metrics (busy_s, batches, samples); "
                    + "run load with --metrics naming every worker's endpoint");
            Costs fitted = Fit.apply(costs, byModel, byPlanModel, Map.of(), null, null);
            Overheads overhead = overheadAndEncode(points, fitted);
            fitted = Fit.apply(costs, byModel, byPlanModel, overhead.byPool(),
                    Double.isNaN(overhead.all()) ? null : overhead.all(),
                    Double.isNaN(overhead.encodeMs()) ? null : overhead.encodeMs());
            if (!Double.isNaN(overhead.requestMs())) {
                fitted = fitted.withOrchestrator(fitted.orchestrator().withRequestOverhead(overhead.requestMs())).check();
            }
            double[] jitter = jitter(points);
            if (!Double.isNaN(jitter[0])) {
                Map<String, dev.flowblend.capacity.PoolCosts> pools = new LinkedHashMap<>();
                fitted.pools().forEach((name, pc) -> pools.put(name, pc.withJitter(jitter[0], jitter[1])));
                fitted = fitted.withPools(pools).check();
            }
            Files.writeString(out, Json.write(fitted) + "\n");
            fitted.pools().forEach((pool, pc) -> pc.models().forEach((m, c) -> {
                System.out.printf(Locale.ROOT, "%s %s: %.3f ms + %.3f ms per sample%s%n", pool, m, c.fixedMs(),
                        c.perSampleMs(), byModel.containsKey(m) ? " (" + byModel.get(m).size() + " observations)"
                                : " (kept from the base)");
                if (c.byPlan() != null) {
                    c.byPlan().forEach((plan, pc2) -> System.out.printf(Locale.ROOT,
                            "  under %s: %.3f ms + %.3f ms per sample%n", plan, pc2.fixedMs(), pc2.perSampleMs()));
                }
            }));
            fitted.pools().forEach((pool, pc) -> {
                if (pc.stepOverheadMs() != null) {
                    System.out.printf(Locale.ROOT, "%s step overhead %.3f ms%n", pool, pc.stepOverheadMs());
                }
            });
            System.out.printf(Locale.ROOT, "step overhead %.3f ms, video encoding %.3f ms, request overhead %.3f ms; "
                    + "device jitter cv %.4f over %.1f ms windows; wrote %s%n", fitted.orchestrator().stepOverheadMs(),
                    fitted.orchestrator().encodeMs(), fitted.orchestrator().requestOverheadMs(),
                    Double.isNaN(jitter[0]) ? 0 : jitter[0], Double.isNaN(jitter[1]) ? 0 : jitter[1], out);
            return 0;
        });
    }

    /** Every point of the load reports (each file's last line is load's JSON), in order. */
    static List<JsonNode> points(List<Path> loads) throws java.io.IOException {
        List<JsonNode> points = new ArrayList<>();
        for (Path p : loads) {
            CapacityCommand.check(Files.isRegularFile(p), "--load " + p + ": no such file");
            List<String> lines = Files.readAllLines(p);
            CapacityCommand.check(!lines.isEmpty(), "--load " + p + ": empty");
            JsonNode report = Json.mapper().readTree(lines.get(lines.size() - 1));
            CapacityCommand.check(report.has("points"), "--load " + p + ": its last line has no 'points'; "
                    + "give the output of ./flowblend load ... --json");
            report.get("points").forEach(points::add);
        }
        return points;
    }

    /**
     * {cv, period ms} of the devices' jitter from the one-client points, where nothing queues: a
     * log-normal latency spread with the measured p95 / p50, over windows as long as a mean
     * generation (NaN where no point tells).
     */
    private static double[] jitter(List<JsonNode> points) {
        double sigma = 0, period = 0;
        int n = 0;
        for (JsonNode pt : points) {
            if (pt.path("concurrency").asInt() == 1 && pt.path("p50_ms").asDouble() > 0
                    && pt.path("mean_timings_ms").has("total_ms")) {
                sigma += Math.log(pt.get("p95_ms").asDouble() / pt.get("p50_ms").asDouble()) / 1.6448536269514722;
                period += pt.get("mean_timings_ms").get("total_ms").asDouble();
                n++;
            }
        }
        if (n == 0) {
            return new double[] {Double.NaN, Double.NaN};
        }
        double s = Math.max(0, sigma / n);
        return new double[] {Math.sqrt(Math.expm1(s * s)), period / n};
    }

    /**
     * Step overhead per pool and over all pools, encode ms, and the request overhead (a client's
     * mean latency, 1 / throughput alone, beyond the orchestrator's mean total) from the one-client
     * points (NaN where none tells).
     */
    record Overheads(Map<String, Double> byPool, double all, double encodeMs, double requestMs) {
    }

    private static Overheads overheadAndEncode(List<JsonNode> points, Costs fitted) {
        double overheadSum = 0, steps = 0, encodeSum = 0, videos = 0, requestSum = 0, requests = 0;
        Map<String, double[]> byPool = new LinkedHashMap<>();
        for (JsonNode pt : points) {
            if (pt.path("concurrency").asInt() != 1) {
                continue;
            }
            String plan = pt.path("plan").asText("");
            Map<String, Double> queueMs = new LinkedHashMap<>();
            for (JsonNode w : pt.path("metrics").path("workers")) {
                if (w.hasNonNull("mean_queue_wait_ms")) {
                    queueMs.put(w.get("model").asText(), w.get("mean_queue_wait_ms").asDouble());
                }
            }
            for (JsonNode p : pt.path("metrics").path("pools")) {
                String pool = p.get("pool").asText();
                long n = p.path("steps").asLong();
                if (n == 0 || !p.hasNonNull("mean_step_ms") || !fitted.pools().containsKey(pool)) {
                    continue;
                }
                String model = fitted.pools().get(pool).velocityModel(pool);
                ModelCosts c = fitted.pools().get(pool).models().get(model).forPlan(plan);
                double o = Math.max(0, p.get("mean_step_ms").asDouble() - queueMs.getOrDefault(model, 0.0)
                        - c.batchMs(fitted.stepSamples()));
                overheadSum += o * n;
                steps += n;
                double[] acc = byPool.computeIfAbsent(pool, k -> new double[2]);
                acc[0] += o * n;
                acc[1] += n;
            }
            JsonNode t = pt.path("mean_timings_ms");
            int done = pt.path("completed").asInt();
            if (t.has("total_ms") && pt.path("throughput_per_s").asDouble() > 0 && done > 0) {
                requestSum += Math.max(0, 1000 / pt.get("throughput_per_s").asDouble() - t.get("total_ms").asDouble()) * done;
                requests += done;
            }
            if (t.has("video_encode_ms")) {
                encodeSum += t.get("video_encode_ms").asDouble() * pt.path("completed").asInt();
                videos += pt.path("completed").asInt();
            }
        }
        Map<String, Double> pools = new LinkedHashMap<>();
        byPool.forEach((pool, acc) -> pools.put(pool, acc[0] / acc[1]));
        return new Overheads(pools, steps == 0 ? Double.NaN : overheadSum / steps,
                videos == 0 ? Double.NaN : encodeSum / videos, requests == 0 ? Double.NaN : requestSum / requests);
    }
}
