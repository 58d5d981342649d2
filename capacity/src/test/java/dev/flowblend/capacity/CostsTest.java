package dev.flowblend.capacity;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Reading costs files: defaults by name, every bad value refused naming its field path and limit. */
class CostsTest {
    private static final String VALID = """
            {"plan": "flowblending",
             "pools": {"large": {"workers": 1, "price_per_hour": 4.0,
                                 "models": {"velocity-large": {"per_sample_ms": 10},
                                            "text-encoder": {"per_sample_ms": 1}, "decoder": {"per_sample_ms": 2}}},
                       "small": {"models": {"velocity-small": {"fixed_ms": 1, "per_sample_ms": 3}}}}}
            """;

    static Path write(Path dir, String json) throws Exception {
        return Files.writeString(dir.resolve("costs.json"), json);
    }

    @Test
    void minimalFile_takesTheNamedDefaults(@TempDir Path dir) throws Exception {
        Costs c = Costs.read(write(dir, VALID));
        assertEquals(Costs.DEFAULT_GUIDANCE, c.guidance());
        assertEquals("large", c.textEncoderPool());
        assertEquals("large", c.decoderPool());
        assertEquals(OrchestratorCosts.DEFAULT_MAX_CONCURRENT, c.orchestrator().maxConcurrentGenerations());
        assertEquals(OrchestratorCosts.DEFAULT_MAX_QUEUED, c.orchestrator().maxQueuedGenerations());
        ModelCosts small = c.pools().get("small").models().get("velocity-small");
        assertEquals(ModelCosts.DEFAULT_MAX_BATCH_SIZE, small.maxBatchSize());
        assertEquals(PoolCosts.DEFAULT_WORKERS, c.pools().get("small").workers());
        assertEquals(PlanSpec.DEFAULT_STEPS, c.plan().steps());
        assertEquals(7, small.batchMs(2), 0.0);
    }

    /** The preset and the segments resolve as the orchestrator's StagePlan does: large 0-19 and 40-49. */
    @Test
    void plan_presetAndSegments_resolveStepsToPools() {
        String[] steps = PlanSpec.preset("flowblending").resolve();
        assertEquals(50, steps.length);
        for (int k = 0; k < 50; k++) {
            assertEquals(k < 20 || k >= 40 ? "large" : "small", steps[k], "step " + k);
        }
        assertArrayEquals(steps, PlanSpec.segments(50, List.of("large", "small", "large"), List.of(0.4, 0.8, 1.0)).resolve());
        assertArrayEquals(new String[] {"large", "small", "small"},
                PlanSpec.segments(3, List.of("large", "small"), List.of(0.3, 1.0)).resolve());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
        "negative per-sample cost|\"per_sample_ms\": 10|\"per_sample_ms\": -1|pools.large.models.velocity-large.per_sample_ms is -1; must be >= 0",
        "negative workers|\"workers\": 1,|\"workers\": -2,|pools.large.workers is -2; must be >= 0",
        "batch of 0|\"fixed_ms\": 1,|\"fixed_ms\": 1, \"max_batch_size\": 0,|pools.small.models.velocity-small.max_batch_size is 0; must be >= 1",
        "guided step in batches of 1|\"fixed_ms\": 1,|\"fixed_ms\": 1, \"max_batch_size\": 1,|pools.small.models.velocity-small.max_batch_size is 1; must be >= 2 (the samples of one call)",
        "unknown preset|\"plan\": \"flowblending\"|\"plan\": \"turbo\"|plan is 'turbo'; must be a preset [flowblending, large-only, small-only] or {\"steps\", \"pools\", \"bounds\"}",
        "unknown pool in the plan|\"plan\": \"flowblending\"|\"plan\": {\"pools\": [\"large\", \"medium\"], \"bounds\": [0.5, 1.0]}|plan names pool 'medium', which is not in pools [large, small]",
        "bounds not increasing|\"plan\": \"flowblending\"|\"plan\": {\"pools\": [\"large\", \"small\"], \"bounds\": [0.5, 0.5]}|plan.bounds[1] is 0.5; must be > 0.5 and <= 1 (bounds increase strictly)",
        "bounds short of 1|\"plan\": \"flowblending\"|\"plan\": {\"pools\": [\"large\", \"small\"], \"bounds\": [0.5, 0.9]}|plan.bounds[1] is 0.9; must be 1 (the segments cover every step)",
        "zero steps|\"plan\": \"flowblending\"|\"plan\": {\"preset\": \"flowblending\", \"steps\": 0}|plan.steps is 0; must be >= 1",
        "decoder pool missing|\"plan\": \"flowblending\",|\"plan\": \"flowblending\", \"decoder_pool\": \"gpu\",|decoder_pool names pool 'gpu', which is not in pools [large, small]",
        "text encoder not hosted|\"plan\": \"flowblending\",|\"plan\": \"flowblending\", \"text_encoder_pool\": \"small\",|pools.small.models has no 'text-encoder', which text_encoder_pool needs there; it has [velocity-small]",
        "hit rate above 1|\"plan\": \"flowblending\",|\"plan\": \"flowblending\", \"orchestrator\": {\"prompt_cache_hit_rate\": 1.5},|orchestrator.prompt_cache_hit_rate is 1.5; must be <= 1",
        "no concurrency|\"plan\": \"flowblending\",|\"plan\": \"flowblending\", \"orchestrator\": {\"max_concurrent_generations\": 0},|orchestrator.max_concurrent_generations is 0; must be >= 1"})
    void badValue_refusedNamingTheFieldPathAndTheLimit(String what, String from, String to, String message,
                                                       @TempDir Path dir) throws Exception {
        assertTrue(VALID.contains(from), what + ": fixture lacks " + from);
        Path f = write(dir, VALID.replaceFirst(java.util.regex.Pattern.quote(from), java.util.regex.Matcher.quoteReplacement(to)));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Costs.read(f), what);
        assertEquals(f + ": " + message, e.getMessage(), what);
    }

    @Test
    void unknownKeyOrWrongType_namedWithItsPath(@TempDir Path dir) throws Exception {
        Path typo = write(dir, VALID.replace("\"price_per_hour\"", "\"price_per_hr\""));
        String m = assertThrows(IllegalArgumentException.class, () -> Costs.read(typo)).getMessage();
        assertTrue(m.contains("pools.large") && m.contains("Unrecognized field \"price_per_hr\"") && m.contains("price_per_hour"), m);
        Path fraction = write(dir, VALID.replace("\"workers\": 1", "\"workers\": 1.5"));
        m = assertThrows(IllegalArgumentException.class, () -> Costs.read(fraction)).getMessage();
        assertTrue(m.contains("pools.large.workers"), m);
        String missing = assertThrows(IllegalArgumentException.class, () -> Costs.read(dir.resolve("none.json"))).getMessage();
        assertTrue(missing.startsWith("cannot read " + dir.resolve("none.json")), missing);
    }

    @Test
    void load_badValues_refusedNamingTheOption() {
        Costs c = Fixtures.oneStep(10, 1).withOrchestrator(Fixtures.unlimited().withLimits(2, 3));
        assertEquals("rate is -1; must be > 0",
                assertThrows(IllegalArgumentException.class, () -> Simulation.run(c, Load.open(-1))).getMessage());
        assertEquals("concurrency is 0; must be >= 1",
                assertThrows(IllegalArgumentException.class, () -> Simulation.run(c, Load.closed(0))).getMessage());
        String m = assertThrows(IllegalArgumentException.class, () -> Simulation.run(c, Load.closed(6))).getMessage();
        assertTrue(m.startsWith("concurrency is 6; must be <= 5 (orchestrator.max_concurrent_generations"), m);
        // with think time a refused client waits, so a loop beyond the limits is allowed
        assertTrue(Simulation.run(c, Load.closed(6).thinkMs(5).count(200)).refused() > 0);
        assertEquals("count is 0; must be >= 1",
                assertThrows(IllegalArgumentException.class, () -> Simulation.run(c, Load.open(1).count(0))).getMessage());
    }

    /** The example costs files in docs/capacity read and simulate. */
    @Test
    void exampleFiles_readAndSimulate() {
        for (String name : List.of("demo-costs.json", "wan-h100-l4.json")) {
            Costs c = Costs.read(Docs.file(name));
            SimResult r = Simulation.run(c, Load.closed(2).count(20));
            assertEquals(20, r.completed(), name);
        }
    }
}
