package dev.flowblend.orchestrator;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flowblend.proto.generation.GenerateEvent;
import dev.flowblend.proto.generation.GenerateRequest;
import dev.flowblend.proto.generation.Plan;
import dev.flowblend.proto.generation.Result;
import dev.flowblend.runtime.ModelEntry;
import dev.flowblend.runtime.OnnxModel;
import dev.flowblend.runtime.RuntimeOptions;
import dev.flowblend.runtime.Tensors;
import dev.flowblend.runtime.Tokenizer;
import java.nio.ByteOrder;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A stock Open Inference Protocol server (no flowblend extensions, parameters or health service;
 * every declared input required) serves the small pool for a whole FlowBlending generation, with
 * and without ModelStreamInfer; the frames are bitwise those of an in-process generation.
 */
class StockOipWorkerTest {

    @ParameterizedTest(name = "streams={0}")
    @ValueSource(booleans = {true, false})
    void stockServer_servesSmallPool_framesBitwiseEqualToInProcess(boolean streams) throws Exception {
        ModelEntry small = TestCluster.FAMILY.byName("velocity-small").orElseThrow();
        try (StockOipServer stock = new StockOipServer(small,
                OnnxModel.load(TestCluster.FAMILY, small, RuntimeOptions.cpu(1)), streams);
             TestCluster cluster = new TestCluster(true, 0, List.of(stock.address()),
                     OrchestratorConfig.Limits.DEFAULT)) {
            // the first health round has the capabilities: wait for readiness so no step races it
            long until = System.nanoTime() + 10_000_000_000L;
            while (cluster.health("flowblend.v1.GenerationService")
                    != io.grpc.health.v1.HealthCheckResponse.ServingStatus.SERVING && System.nanoTime() < until) {
                Thread.sleep(50);
            }
            String prompt = "a red circle moving right";
            List<GenerateEvent> events = cluster.generate(GenerateRequest.newBuilder().setPrompt(prompt).setSeed(7)
                    .setIncludeFrames(true).setPlan(Plan.newBuilder().setPreset("flowblending")).build());
            Result r = events.get(events.size() - 1).getResult();
            assertEquals(List.of(20, 39), List.of(r.getMetadata().getServedMap().get("small").getSteps(0),
                    r.getMetadata().getServedMap().get("small").getSteps(19)));
            assertEquals(0, r.getMetadata().getFallbacksCount(), "no step fell back to the large pool");
            assertEquals(20, stock.calls.get(), "one call per small step, each accepted");
            float[] remote = Tensors.floats(r.getFrames().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN));

            try (InProcessBackend local = InProcessBackend.largeSmall(TestCluster.FAMILY, RuntimeOptions.cpu(1));
                 Tokenizer tokenizer = Tokenizer.load(TestCluster.FAMILY)) {
                PromptEncoder prompts = new PromptEncoder(tokenizer, 16);
                Generator g = new Generator(TestCluster.FAMILY, local, prompts);
                GenerationSpec spec = new GenerationSpec(prompt, prompts.tokens(prompt), prompts.tokens(""), 7, 50,
                        TestCluster.FAMILY.conventions().defaultGuidanceScale(), StagePlan.PRESETS.get("flowblending"));
                assertArrayEquals(g.generate(spec, s -> { }, () -> false).frames(), remote);
            }
            assertTrue(r.getMetadata().getServedMap().get("large").getStepsCount() == 30);
        }
    }
}
