package dev.flowblend.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.flowblend.proto.generation.Fallback;
import dev.flowblend.proto.generation.GenerationMetadata;
import dev.flowblend.proto.generation.Result;
import dev.flowblend.proto.generation.StepList;
import dev.flowblend.runtime.Json;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** What `generate` prints about where the steps ran: fallbacks shown when there are any, and in --json. */
class GenerateSummaryTest {
    private static GenerationClient.Outcome outcome(boolean degraded) {
        GenerationMetadata.Builder m = GenerationMetadata.newBuilder().setPlan("flowblending").setFlops(2).setLargeOnlyFlops(2)
                .setTextEncoderPool("large").setDecoderPool("large");
        if (degraded) {
            m.putServed("large", StepList.newBuilder().addAllSteps(IntStream.range(0, 10).boxed().toList()).build())
                    .addFallbacks(Fallback.newBuilder().setPlannedPool("small").setServedPool("large").setReason("unavailable")
                            .addSteps(4))
                    .addFallbacks(Fallback.newBuilder().setPlannedPool("small").setServedPool("large")
                            .setReason("no_healthy_worker").addAllSteps(List.of(5, 6, 7)));
        } else {
            m.putServed("large", StepList.newBuilder().addAllSteps(List.of(0, 1, 2, 3, 8, 9)).build())
                    .putServed("small", StepList.newBuilder().addAllSteps(List.of(4, 5, 6, 7)).build());
        }
        return new GenerationClient.Outcome(Result.newBuilder().setGenerationId("g1").setMimeType("video/mp4")
                .setMetadata(m).build(), 12.3);
    }

    @Test
    void summary_stepsOnAFallback_eachGroupPrintedWithPoolsReasonAndSteps() {
        String s = GenerateCommand.summary(Path.of("out.mp4"), outcome(true));
        assertTrue(s.contains("  FALLBACK 1 steps planned on small ran on large (unavailable): 4\n"), s);
        assertTrue(s.contains("  FALLBACK 3 steps planned on small ran on large (no_healthy_worker): 5-7\n"), s);
        assertTrue(s.contains("large  served 10 steps: 0-9"), s);
    }

    @Test
    void summary_everyStepWherePlanned_noFallbackLine() {
        assertTrue(!GenerateCommand.summary(Path.of("out.mp4"), outcome(false)).contains("FALLBACK"));
    }

    @Test
    void json_includesFallbacksAndTheSharedModelsPools() throws Exception {
        JsonNode j = Json.mapper().readTree(Json.writeCompact(GenerateCommand.json(Path.of("out.mp4"), outcome(true))));
        assertEquals("small", j.get("fallbacks").get(1).get("planned_pool").asText());
        assertEquals("large", j.get("fallbacks").get(1).get("served_pool").asText());
        assertEquals("no_healthy_worker", j.get("fallbacks").get(1).get("reason").asText());
        assertEquals("[5,6,7]", j.get("fallbacks").get(1).get("steps").toString());
        assertEquals(10, j.get("served").get("large").size());
        assertEquals("large", j.get("text_encoder_pool").asText());
        assertEquals("large", j.get("decoder_pool").asText());
        assertEquals(0, Json.mapper().readTree(Json.writeCompact(GenerateCommand.json(Path.of("out.mp4"), outcome(false))))
                .get("fallbacks").size());
    }
}
