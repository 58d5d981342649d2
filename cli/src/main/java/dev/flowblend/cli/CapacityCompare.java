package dev.flowblend.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.flowblend.capacity.Costs;
import dev.flowblend.capacity.Load;
import dev.flowblend.capacity.SimResult;
import dev.flowblend.capacity.Simulation;
import dev.flowblend.runtime.Json;
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
 * {@code capacity compare}: the simulator's prediction of every point of a real load report, side
 * by side with what was measured — throughput and p95 — and their relative errors; and per point
 * the pool-bound limit: throughput over the device utilisation of the busiest worker (all its
 * models counted), the quantity FlowBlending's throughput at saturation is held to.
 */
@Command(name = "compare", mixinStandardHelpOptions = true,
        description = "Simulate every point of load --json reports with a costs file; print predicted against measured "
                + "throughput and p95 (--json: one JSON line).")
final class CapacityCompare implements Callable<Integer> {
    @Option(names = "--costs", required = true, description = "Costs file (e.g. from capacity fit).")
    Path costs;

    @Option(names = "--load", required = true, split = ",", description = "Reports of ./flowblend load ... --json.")
    List<Path> loads;

    @Option(names = "--count", description = "Simulated requests per point (default: ${DEFAULT-VALUE}).")
    int count = 2000;

    @Option(names = "--json", description = "Print the comparison as one JSON line (the last stdout line).")
    boolean json;

    @Override
    public Integer call() throws Exception {
        return CapacityCommand.guarded("compare", () -> {
            CapacityCommand.check(count >= 10, "--count is " + count + "; must be >= 10");
            Costs base = Costs.read(costs);
            List<Map<String, Object>> rows = new ArrayList<>();
            System.out.printf(Locale.ROOT, "%-14s %-16s %12s %12s %7s %10s %10s %7s %10s%n", "plan", "load",
                    "measured/s", "predicted/s", "error", "p95 ms", "pred. ms", "error", "busiest");
            for (JsonNode pt : CapacityFit.points(loads)) {
                rows.add(row(base, pt));
            }
            CapacityCommand.check(!rows.isEmpty(), "--load: no points in the reports");
            if (json) {
                System.out.println(Json.writeCompact(Map.of("costs", costs.toString(), "points", rows)));
            }
            return 0;
        });
    }

    private Map<String, Object> row(Costs base, JsonNode pt) {
        String plan = pt.get("plan").asText();
        Costs c = base.withPlan(CapacityCommand.planSpec(plan, base.plan().steps(), 3.0)).check();
        Load load = pt.has("rate") ? Load.open(pt.get("rate").asDouble()) : Load.closed(pt.get("concurrency").asInt());
        SimResult r = Simulation.run(c, load.count(count).warmup(count / 10));
        double tput = pt.path("throughput_per_s").asDouble(), p95 = pt.path("p95_ms").asDouble();
        double pt95 = 1000 * r.latencyP95S();
        Map<String, Double> byWorker = new LinkedHashMap<>();
        for (JsonNode w : pt.path("metrics").path("workers")) {
            if (w.hasNonNull("utilisation")) {
                byWorker.merge(w.get("worker").asText(), w.get("utilisation").asDouble(), Double::sum);
            }
        }
        Double busiest = byWorker.values().stream().max(Double::compare).orElse(null);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("plan", plan);
        m.put("load", pt.has("rate") ? "rate " + pt.get("rate").asDouble() : "concurrency " + pt.get("concurrency").asInt());
        m.put("measured_per_s", tput);
        m.put("predicted_per_s", round(r.throughputPerS()));
        m.put("throughput_error", round(r.throughputPerS() / tput - 1));
        m.put("measured_p95_ms", p95);
        m.put("predicted_p95_ms", round(pt95));
        m.put("p95_error", round(pt95 / p95 - 1));
        m.put("bottleneck_worker_utilisation", busiest);
        m.put("pool_bound_per_s", busiest == null || busiest <= 0 ? null : round(tput / busiest));
        Map<String, Double> predicted = new LinkedHashMap<>();
        r.pools().forEach((pool, stats) -> predicted.put(pool, round(stats.utilisation())));
        m.put("predicted_utilisation", predicted);
        System.out.printf(Locale.ROOT, "%-14s %-16s %12.3f %12.3f %+6.1f%% %10.1f %10.1f %+6.1f%% %10s%n", plan,
                m.get("load"), tput, r.throughputPerS(), 100 * (r.throughputPerS() / tput - 1), p95, pt95,
                100 * (pt95 / p95 - 1), busiest == null ? "-" : String.format(Locale.ROOT, "%.1f%%", 100 * busiest));
        return m;
    }

    private static double round(double v) {
        return Math.round(v * 10000) / 10000.0;
    }
}
