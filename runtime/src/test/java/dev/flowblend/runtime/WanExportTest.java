package dev.flowblend.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.logging.Logger;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * models/export/wan21.py on shrunk random WAN 2.1 checkpoints in the diffusers layout: the exported
 * ONNX graphs, run by ONNX Runtime, compute what our torch modules compute on the goldens (1e-4 of
 * the output's scale in FP32; BF16 within one rounding step of the wire type), the manifest carries
 * WAN's conventions, and a checkpoint with a missing weight is refused naming it.
 */
class WanExportTest {
    private static final Logger LOG = Logger.getLogger(WanExportTest.class.getName());
    private static final Set<String> ROLES = Set.of(ModelFamily.ROLE_TEXT_ENCODER, ModelFamily.ROLE_VELOCITY_LARGE,
            ModelFamily.ROLE_VELOCITY_SMALL, ModelFamily.ROLE_DECODER);

    @Test
    void fp32Export_onnxRuntimeMatchesTorchTo1e4() throws Exception {
        ModelFamily family = WanExport.get(DType.FP32);
        List<GoldenCheck.Outcome> outcomes = GoldenCheck.run(family, RuntimeOptions.DEFAULT, 1e-4);
        assertEquals(ROLES, family.models().stream().map(ModelEntry::role).collect(Collectors.toSet()));
        assertEquals(4, outcomes.size(), "one golden output per model");
        for (GoldenCheck.Outcome o : outcomes) {
            LOG.info(String.format("event=wan_export_golden dtype=fp32 model=%s output=%s max_abs=%.3g rel=%.3g",
                    o.model(), o.output(), o.maxAbsError(), o.relativeError()));
            assertTrue(o.passed(), o.toString());
            assertEquals(0, o.beyondFp32Tolerance(), "FP32 outputs have no rounding step to allow: " + o);
            assertTrue(o.maxAbsError() > 0 || o.model().equals("text-encoder"),
                    "ONNX Runtime and torch are different kernels, so a zero error means nothing was compared: " + o);
        }
    }

    @Test
    void bf16Export_keepsCheckpointPrecisionAndMatchesTorch() throws Exception {
        ModelFamily family = WanExport.get(DType.BF16);
        for (GoldenCheck.Outcome o : GoldenCheck.run(family, RuntimeOptions.DEFAULT, 1e-4)) {
            LOG.info(String.format("event=wan_export_golden dtype=bf16 model=%s output=%s max_abs=%.3g rel=%.3g beyond=%d",
                    o.model(), o.output(), o.maxAbsError(), o.relativeError(), o.beyondFp32Tolerance()));
            assertTrue(o.passed(), o.toString());
        }
        ModelEntry large = family.byRole(ModelFamily.ROLE_VELOCITY_LARGE);
        assertEquals(DType.BF16, large.input("latent").dtype(), "BF16 checkpoints move BF16 latents");
        assertEquals(DType.BF16, family.byRole(ModelFamily.ROLE_TEXT_ENCODER).output("context").dtype());
        assertEquals(DType.FP32, family.byRole(ModelFamily.ROLE_DECODER).output("video").dtype());
        assertEquals(1, large.externalData().size(), "velocity weights in external data");
        // the stored weights are the checkpoint's bf16: at most 2 bytes a parameter (the ONNX exporter
        // stores identical tensors once: the freshly initialised norm weights are all ones), not FP32's 4
        long bytes = java.nio.file.Files.size(family.dir().resolve(large.externalData().get(0).file()));
        assertTrue(bytes <= large.params() * 2 && bytes > large.params() * 3 / 2, bytes + " bytes for "
                + large.params() + " params");
        Manifest.Conventions c = family.conventions();
        assertEquals(16, c.latentChannels());
        assertEquals(List.of("480p", "720p"), c.sizes().stream().map(Manifest.SizeSpec::name).toList());
        assertEquals(WanExport.NEGATIVE_PROMPT, c.negativePrompt());
        assertEquals(WanExport.MAX_TOKENS, family.manifest().text().maxTokens());
    }

    @Test
    void checkpointWithMissingKey_isRefusedNamingIt() {
        String key = "blocks.1.attn2.to_k.weight";
        Path broken = WanExport.checkpoints(List.of("transformer:" + key));
        Path out = Path.of("target", "wan21-refused").toAbsolutePath();
        PythonScripts.Outcome o = WanExport.export(broken, out, "auto");
        assertEquals(2, o.exitCode(), o.output());
        assertTrue(o.output().contains("1 missing keys: " + key), o.output());
        assertTrue(o.output().contains("transformer"), o.output());
        assertFalse(java.nio.file.Files.exists(out.resolve("manifest.json")), "nothing exported");
    }
}
