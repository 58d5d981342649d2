package dev.flowblend.cli;

import static dev.flowblend.cli.CliRun.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.flowblend.capacity.Costs;
import dev.flowblend.capacity.ModelCosts;
import dev.flowblend.runtime.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** capacity fit and compare on a load report written by hand in load --json's shape. */
class CapacityFitTest {
    /** Two points: one client (batches of 2), four clients (batches of 4); velocity-large costs 1 + 2 x samples ms. */
    private static final String REPORT = """
            {"points": [
              {"plan": "large-only", "loop": "closed", "concurrency": 1, "completed": 10, "throughput_per_s": 1.5,
               "p95_ms": 700, "mean_timings_ms": {"video_encode_ms": 4.0},
               "metrics": {"workers": [
                   {"worker": "large-0", "model": "velocity-large", "batches": 500, "samples": 1000, "busy_s": 2.5,
                    "utilisation": 0.5, "mean_queue_wait_ms": 0.1},
                   {"worker": "large-0", "model": "decoder", "batches": 10, "samples": 10, "busy_s": 0.05, "utilisation": 0.01}],
                 "pools": [{"pool": "large", "steps": 500, "mean_step_ms": 5.6}]}},
              {"plan": "large-only", "loop": "closed", "concurrency": 4, "completed": 10, "throughput_per_s": 2.0,
               "p95_ms": 2500, "mean_timings_ms": {"video_encode_ms": 9.0},
               "metrics": {"workers": [
                   {"worker": "large-0", "model": "velocity-large", "batches": 250, "samples": 1000, "busy_s": 2.25,
                    "utilisation": 0.9}],
                 "pools": [{"pool": "large", "steps": 500, "mean_step_ms": 20}]}}]}
            """;


    @Test
    void fitRecoversBatchCostsOverheadAndEncodingThenCompareSimulatesEveryPoint(@TempDir Path dir) throws Exception {
        Path report = dir.resolve("load.json");
        Files.writeString(report, "a progress line\n" + REPORT.replace("\n", " ") + "\n");
        Path costs = dir.resolve("costs.json");
        String[] r = run("capacity", "fit", "--base", "../docs/capacity/demo-costs.json", "--load", report.toString(),
                "--out", costs.toString());
        assertEquals("0", r[0], r[2]);
        Costs c = Costs.read(costs);
        ModelCosts large = c.pools().get("large").models().get("velocity-large");
        assertEquals(1.0, large.fixedMs(), 1e-9);  // 5 ms for 2 samples, 9 ms for 4
        assertEquals(2.0, large.perSampleMs(), 1e-9);
        assertEquals(5.0, c.pools().get("large").models().get("decoder").perSampleMs(), 1e-9);  // one sample, 5 ms
        // one client: 5.6 ms a step, 0.1 queued, 5 ms the batch of 2
        assertEquals(0.5, c.orchestrator().stepOverheadMs(), 1e-9);
        assertEquals(4.0, c.orchestrator().encodeMs(), 1e-9);  // from the one-client point only
        // a model not observed keeps the base's costs
        assertEquals(Costs.read(Path.of("../docs/capacity/demo-costs.json")).pools().get("small").models(),
                c.pools().get("small").models());

        String[] cmp = run("capacity", "compare", "--costs", costs.toString(), "--load", report.toString(), "--count",
                "200", "--json");
        assertEquals("0", cmp[0], cmp[2]);
        String[] lines = cmp[1].strip().split("\n");
        JsonNode j = Json.mapper().readTree(lines[lines.length - 1]);
        assertEquals(2, j.get("points").size());
        JsonNode p1 = j.get("points").get(0);
        assertEquals("concurrency 1", p1.get("load").asText());
        assertEquals(1.5, p1.get("measured_per_s").asDouble());
        assertEquals(2.9412, p1.get("pool_bound_per_s").asDouble(), 1e-9);  // 1.5 / (0.5 + 0.01), both models of large-0
        assertTrue(p1.get("predicted_per_s").asDouble() > 0);
        assertEquals(p1.get("predicted_per_s").asDouble() / 1.5 - 1, p1.get("throughput_error").asDouble(), 1e-3);
    }

    @Test
    void aReportWithoutWorkerMetricsIsRefusedNamingTheFlag(@TempDir Path dir) throws Exception {
        Path report = dir.resolve("load.json");
        Files.writeString(report, "{\"points\": [{\"plan\": \"large-only\", \"concurrency\": 1}]}\n");
        String[] r = run("capacity", "fit", "--base", "../docs/capacity/demo-costs.json", "--load", report.toString(),
                "--out", dir.resolve("c.json").toString());
        assertEquals("2", r[0]);
        assertTrue(r[2].contains("flowblend capacity fit: --load: no point has worker metrics"), r[2]);
    }
}
