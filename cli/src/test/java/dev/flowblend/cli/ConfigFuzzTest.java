package dev.flowblend.cli;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.databind.JsonNode;
import dev.flowblend.orchestrator.OrchestratorConfig;
import dev.flowblend.orchestrator.StagePlan;
import dev.flowblend.worker.WorkerConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Coverage-guided fuzzing of plan and config parsing (through {@code Json.read}, as every file
 * is read): mutated copies of the documents the project ships. Invariant: a value, or an
 * IllegalArgumentException whose message names the line (and the key's path, where Jackson knows
 * it) with no parser internals; no other exception type. Regression inputs:
 * src/test/resources/dev/flowblend/cli/ConfigFuzzTestInputs/; docs/reliability.md#fuzzing.
 */
class ConfigFuzzTest {
    private static final Path REPO = FuzzedJson.repo();
    private static final JsonNode CLUSTER = FuzzedJson.load(REPO.resolve("deploy/demo.json"));
    private static final List<JsonNode> CLUSTERS = List.of(CLUSTER);
    private static final List<JsonNode> ORCHESTRATORS = List.of(CLUSTER.get("orchestrator"));
    private static final List<JsonNode> WORKERS = workers();
    private static final List<JsonNode> PLANS = List.of(FuzzedJson.load(REPO.resolve("docs/calibration/plan.json")),
            new com.fasterxml.jackson.databind.ObjectMapper().valueToTree(java.util.Map.of("name", "wan", "unit", "sigma",
                    "segments", List.of(java.util.Map.of("pool", "large", "end", 0.875),
                            java.util.Map.of("pool", "small", "end", 0.0)))));

    private static List<JsonNode> workers() {
        List<JsonNode> w = new ArrayList<>();
        CLUSTER.get("workers").forEach(w::add);
        w.add(FuzzedJson.load(REPO.resolve("large-worker/src/main/resources/dev/flowblend/roles/large.json")));
        w.add(FuzzedJson.load(REPO.resolve("small-worker/src/main/resources/dev/flowblend/roles/small.json")));
        return w;
    }

    @FuzzTest(maxDuration = "60s")
    void stagePlan_mutatedPlanFile_valueOrIllegalArgumentNamingTheLine(FuzzedDataProvider data) {
        FuzzedJson.check(FuzzedJson.mutate(data, PLANS), StagePlan.class);
    }

    @FuzzTest(maxDuration = "60s")
    void orchestratorConfig_mutatedSection_valueOrIllegalArgumentNamingTheLine(FuzzedDataProvider data) {
        FuzzedJson.check(FuzzedJson.mutate(data, ORCHESTRATORS), OrchestratorConfig.class);
    }

    @FuzzTest(maxDuration = "60s")
    void workerConfig_mutatedSection_valueOrIllegalArgumentNamingTheLine(FuzzedDataProvider data) {
        FuzzedJson.check(FuzzedJson.mutate(data, WORKERS), WorkerConfig.class);
    }

    @FuzzTest(maxDuration = "60s")
    void clusterConfig_mutatedFile_valueOrIllegalArgumentNamingTheLine(FuzzedDataProvider data) {
        FuzzedJson.check(FuzzedJson.mutate(data, CLUSTERS), ClusterConfig.class);
    }
}
