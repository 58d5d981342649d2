package dev.flowblend.orchestrator;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import dev.flowblend.proto.generation.BoundaryUnit;
import dev.flowblend.proto.generation.GenerateRequest;
import dev.flowblend.proto.generation.Plan;
import dev.flowblend.proto.generation.Segment;
import dev.flowblend.proto.generation.Segments;
import dev.flowblend.runtime.ModelFamily;
import dev.flowblend.runtime.Tokenizer;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * Structure-aware GenerateRequests for the fuzz tests (every field, from words of the vocabulary
 * and from arbitrary text, numbers at and past each limit), and the orchestrator's request parser
 * as GenerationService builds it, over a backend with the pools "large" and "small".
 */
final class FuzzedGenerateRequests {
    private static final String[] WORDS = {"a", "the", "red", "green", "blue", "circle", "square", "moving", "left",
        "right", "up", "down", "purple", "<pad>", " ", "", "\u00e9", "\ud83d\ude00"};
    private static final String[] POOLS = {"large", "small", "tiny", "", " ", "LARGE"};

    private FuzzedGenerateRequests() {
    }

    /**
     * GenerationRequests as OrchestratorServer makes it: default limits, the preset plans, flowblending
     * by default. Its tokenizer lives as long as the test JVM (callers keep one parser per class).
     */
    static GenerationRequests parser(ModelFamily family) {
        Generator generator = new Generator(family, new PoolsOnly(), new PromptEncoder(Tokenizer.load(family), 64));
        return new GenerationRequests(generator, OrchestratorConfig.Limits.DEFAULT, StagePlan.PRESETS,
                StagePlan.PRESETS.get("flowblending"));
    }

    static GenerateRequest build(FuzzedDataProvider data, int maxSteps) {
        GenerateRequest.Builder b = GenerateRequest.newBuilder().setPrompt(text(data)).setSeed(data.consumeLong());
        if (data.consumeBoolean()) {
            b.setNegativePrompt(text(data));
        }
        b.setSteps(data.consumeBoolean() ? data.consumeInt(0, maxSteps) : data.consumeInt());
        if (data.consumeBoolean()) {
            b.setGuidanceScale(data.pickValue(new Float[] {1f, 5f, 30f, 30.0001f, 0.5f, Float.NaN,
                Float.POSITIVE_INFINITY, data.consumeFloat()}));
        }
        if (data.consumeBoolean()) {
            b.setVideoScale(data.consumeBoolean() ? data.consumeInt(0, 17) : data.consumeInt());
        }
        if (data.consumeBoolean()) {
            b.setFormatValue(data.consumeInt(-1, 3));
        }
        if (data.consumeBoolean()) {
            b.setGenerationId(data.consumeBoolean() ? "gen-" + data.consumeInt(0, 99) : data.consumeString(70));
        }
        if (data.consumeBoolean()) {
            b.setProgressIntervalMs(data.consumeBoolean() ? data.consumeInt(0, 60_001) : data.consumeInt());
        }
        b.setIncludeFrames(data.consumeBoolean());
        switch (data.consumeInt(0, 3)) {
            case 0 -> { }
            case 1 -> b.setPlan(Plan.newBuilder().setPreset(data.pickValue(new String[] {"flowblending", "large-only",
                "small-only", "", "medium-only", data.consumeString(12)})));
            default -> {
                Segments.Builder s = Segments.newBuilder().setUnitValue(data.consumeInt(-1, 2));
                int n = data.consumeInt(0, 4);
                for (int i = 0; i < n; i++) {
                    s.addSegments(Segment.newBuilder().setPool(data.pickValue(POOLS)).setEnd(data.pickValue(
                            new Double[] {0.0, 0.4, 0.5, 0.8, 1.0, 1.5, -0.1, Double.NaN, Double.NEGATIVE_INFINITY,
                                data.consumeDouble()})));
                }
                b.setPlan(Plan.newBuilder().setSegments(s));
            }
        }
        return b.build();
    }

    /** A prompt: words (known or not) joined by spaces, or arbitrary text of up to 1200 chars. */
    private static String text(FuzzedDataProvider data) {
        if (data.consumeBoolean()) {
            return data.consumeString(1200);
        }
        StringBuilder s = new StringBuilder();
        int n = data.consumeInt(0, 20);
        for (int i = 0; i < n; i++) {
            s.append(i == 0 ? "" : data.pickValue(new String[] {" ", "  ", "\t", ","})).append(data.pickValue(WORDS));
        }
        return s.toString();
    }

    /** A backend that has the pools "large" and "small" and runs nothing: request parsing never calls a model. */
    private static final class PoolsOnly implements Backend {
        private static final Map<String, String> POOL_MODELS = Map.of(StagePlan.LARGE, "velocity-large",
                StagePlan.SMALL, "velocity-small");

        @Override
        public float[] encodeText(long[] tokenIds, long[] mask, int batch) {
            throw new UnsupportedOperationException("request parsing runs no model");
        }

        @Override
        public CompletableFuture<Velocity> velocityAsync(String pool, float[] latent, float[] timesteps,
                                                         Conditioning conditioning, int batch) {
            throw new UnsupportedOperationException("request parsing runs no model");
        }

        @Override
        public float[] decode(float[] latent, int batch) {
            throw new UnsupportedOperationException("request parsing runs no model");
        }

        @Override
        public boolean hasPool(String pool) {
            return POOL_MODELS.containsKey(pool);
        }

        @Override
        public String poolModel(String pool) {
            return POOL_MODELS.get(pool);
        }

        @Override
        public void close() {
        }
    }
}
