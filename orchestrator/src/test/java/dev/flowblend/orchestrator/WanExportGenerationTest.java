package dev.flowblend.orchestrator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flowblend.proto.generation.GenerateEvent;
import dev.flowblend.proto.generation.GenerateRequest;
import dev.flowblend.proto.generation.GenerationMetadata;
import dev.flowblend.proto.generation.Plan;
import dev.flowblend.proto.generation.Result;
import dev.flowblend.runtime.DType;
import dev.flowblend.runtime.ModelFamily;
import dev.flowblend.runtime.WanExport;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The family models/export/wan21.py exports from shrunk random WAN 2.1 checkpoints (BF16, the
 * checkpoints' precision), served by a large and a small worker over loopback gRPC: the orchestrator
 * generates an MP4 at each of the family's two sizes with FlowBlending's 40/40/20 split, the umT5
 * tokenizer and encoder conditioning every step, and the decoded video has the requested frames and
 * aspect.
 */
class WanExportGenerationTest {
    private static final String PROMPT = "a red fox runs through snow at sunset";

    @Test
    void exportedFamily_generatesMp4AtBothSizesOverWorkers() throws Exception {
        ModelFamily family = WanExport.get(DType.BF16);
        try (TestCluster cluster = StandinGenerationTest.cluster(family)) {
            for (int[] size : new int[][] {{9, 48, 80}, {9, 64, 112}}) {
                List<GenerateEvent> events = cluster.generate(GenerateRequest.newBuilder().setPrompt(PROMPT).setSeed(3)
                        .setFrames(size[0]).setHeight(size[1]).setWidth(size[2])
                        .setPlan(Plan.newBuilder().setPreset("flowblending")).build());
                Result r = events.get(events.size() - 1).getResult();
                GenerationMetadata m = r.getMetadata();
                assertEquals(List.of(size[0], size[1], size[2]), List.of(m.getFrames(), m.getHeight(), m.getWidth()));
                assertEquals(size[1] == 48 ? "480p" : "720p", m.getSize());
                assertEquals(20, m.getServedMap().get("small").getStepsCount(), "flowblending's middle 40%");
                assertEquals(30, m.getServedMap().get("large").getStepsCount());
                byte[] mp4 = r.getVideo().toByteArray();
                assertEquals("ftyp", new String(mp4, 4, 4, java.nio.charset.StandardCharsets.US_ASCII), "an MP4");
                int[] shape = new int[4];
                float[] frames = Mp4Reader.frames(mp4, 1, shape);
                assertEquals(size[0], shape[0], "frames in the MP4");
                assertEquals((double) size[2] / size[1], (double) shape[2] / shape[1], 1e-9, "aspect of the MP4");
                double mean = 0;
                for (float v : frames) {
                    mean += v;
                }
                mean /= frames.length;
                assertTrue(mean > 0.02 && mean < 0.98, "a video, not a blank: mean " + mean);
            }
        }
    }
}
