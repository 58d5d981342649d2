package dev.flowblend.orchestrator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flowblend.proto.generation.BoundaryUnit;
import dev.flowblend.proto.generation.GenerateRequest;
import dev.flowblend.proto.generation.Plan;
import dev.flowblend.proto.generation.Segment;
import dev.flowblend.proto.generation.Segments;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** GenerationService refuses bad requests with INVALID_ARGUMENT naming the field and the limit. */
class GenerationValidationTest {
    private static TestCluster cluster;

    @BeforeAll
    static void start() throws Exception {
        cluster = new TestCluster(false, 1, List.of(), null);
    }

    @AfterAll
    static void stop() {
        cluster.close();
    }

    private static GenerateRequest.Builder ok() {
        return GenerateRequest.newBuilder().setPrompt("a red circle moving right").setSeed(1).setSteps(4);
    }

    private static Plan segments(BoundaryUnit unit, Object... poolEnd) {
        Segments.Builder s = Segments.newBuilder().setUnit(unit);
        for (int i = 0; i < poolEnd.length; i += 2) {
            s.addSegments(Segment.newBuilder().setPool((String) poolEnd[i]).setEnd((Double) poolEnd[i + 1]));
        }
        return Plan.newBuilder().setSegments(s).build();
    }

    static List<Arguments> badRequests() {
        return List.of(
                Arguments.of("empty prompt", ok().setPrompt("   "), "prompt is empty"),
                Arguments.of("oversized prompt", ok().setPrompt("a ".repeat(600)), "prompt has 1200 characters; the limit is 1000"),
                Arguments.of("too many words", ok().setPrompt("a red red red red red red red red red red red red red red red circle"),
                        "prompt has 17 tokens; the limit is 16"),
                Arguments.of("unknown word", ok().setPrompt("a purple circle moving right"), "prompt has unknown word 'purple'"),
                Arguments.of("unknown word in negative", ok().setNegativePrompt("blurry"), "negative_prompt has unknown word 'blurry'"),
                Arguments.of("steps too many", ok().setSteps(5000), "steps is 5000; must be 1 to 1000"),
                Arguments.of("unknown solver", ok().setSolver("heun"),
                        "solver is 'heun'; must be one of [euler, dpm++2m, unipc] (empty: the plan's, else the family's)"),
                Arguments.of("unknown solver history", ok().setSolverHistory("keep"),
                        "solver_history is 'keep'; must be carry or reset"),
                Arguments.of("reuse budget out of range", ok().setReuseBudget(2),
                        "reuse_budget is 2.0; must be 0 to 1 (0 reuses nothing)"),
                Arguments.of("reuse budget without a curve", ok().setReuseBudget(0.1),
                        "reuse_budget is 0.1 but plan 'flowblending' has no calibrated reuse curve"),
                Arguments.of("guidance too low", ok().setGuidanceScale(0.5f), "guidance_scale is 0.5; must be 1 to 30"),
                Arguments.of("guidance NaN", ok().setGuidanceScale(Float.NaN), "guidance_scale is NaN"),
                Arguments.of("unknown preset", ok().setPlan(Plan.newBuilder().setPreset("medium-only")), "plan.preset 'medium-only' is unknown"),
                Arguments.of("segments with gap", ok().setPlan(segments(BoundaryUnit.STEP_FRACTION, "large", 0.4, "small", 0.8)),
                        "cover the whole trajectory"),
                Arguments.of("sigma segments not reaching 0", ok().setPlan(segments(BoundaryUnit.SIGMA, "large", 0.5)),
                        "must end at sigma 0"),
                Arguments.of("unknown pool", ok().setPlan(segments(BoundaryUnit.STEP_FRACTION, "large", 0.5, "tiny", 1.0)),
                        "names pool 'tiny', which is not configured"),
                Arguments.of("bad generation id", ok().setGenerationId("a b"), "generation_id 'a b' must be"),
                Arguments.of("video scale", ok().setVideoScale(99), "video_scale is 99"),
                Arguments.of("video scale above 2^31", ok().setVideoScale(Integer.MIN_VALUE),
                        "video_scale is 2147483648; must be 1 to 16"),
                Arguments.of("unknown format", ok().setFormatValue(7),
                        "format is 7; must be one of [VIDEO_FORMAT_UNSPECIFIED, VIDEO_FORMAT_MP4, VIDEO_FORMAT_GIF]"),
                Arguments.of("progress interval", ok().setProgressIntervalMs(60_001),
                        "progress_interval_ms is 60001; must be 0 to 60000"),
                Arguments.of("progress interval above 2^31", ok().setProgressIntervalMs(-1),
                        "progress_interval_ms is 4294967295; must be 0 to 60000"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badRequests")
    void generate_badRequest_invalidArgumentNamingFieldAndLimit(String what, GenerateRequest.Builder request,
                                                                String expected) {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> cluster.generate(request.build()));
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode(), what);
        assertTrue(e.getStatus().getDescription().contains(expected), what + ": " + e.getStatus().getDescription());
    }
}
