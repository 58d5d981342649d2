package dev.flowblend.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The generated WAN-shaped stand-in (models/standin/wan_standin.py) in both dtypes: it loads, every
 * model runs through OnnxModel at every declared size (velocity weights from external data files),
 * and BF16 and FP32 differ only by bf16 rounding.
 */
class WanStandinTest {
    private static final List<String> ROLES = List.of(ModelFamily.ROLE_TEXT_ENCODER, ModelFamily.ROLE_DECODER,
            ModelFamily.ROLE_VELOCITY_LARGE, ModelFamily.ROLE_VELOCITY_SMALL);

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"BF16", "FP32"})
    void load_generatedFamily_rolesSizesAndExternalDataAsDeclared(DType dtype) throws Exception {
        ModelFamily f = StandinFamily.get(dtype);
        for (String role : ROLES) {
            assertEquals(role, f.byRole(role).role());
        }
        assertThrows(IllegalArgumentException.class, () -> f.byRole(ModelFamily.ROLE_EVALUATOR));
        for (String role : List.of(ModelFamily.ROLE_VELOCITY_LARGE, ModelFamily.ROLE_VELOCITY_SMALL)) {
            ModelEntry e = f.byRole(role);
            assertEquals(List.of(e.file() + ".data"), e.externalData().stream().map(ModelEntry.ExternalData::file).toList());
            assertEquals(dtype, e.input("latent").dtype());
            assertEquals(DType.FP32, e.input("timestep").dtype());
            assertEquals("[-1, 16, latent_frames, latent_height, latent_width]", e.output("velocity").shapeText());
        }
        List<VideoSize> sizes = f.conventions().videoSizes();
        assertEquals(List.of(new VideoSize("480p", 9, 48, 80, 3.0, 3, 6, 10),
                new VideoSize("720p", 9, 64, 112, 5.0, 3, 8, 14)), sizes);
        assertEquals("480p", f.conventions().defaultVideoSize().name());
        assertTrue(f.conventions().negativePrompt().length() > 10, f.conventions().negativePrompt());
        JsonNode text = Json.mapper().readTree(f.dir().resolve("manifest.json").toFile()).get("text");
        assertEquals(ModelFamily.sha256(f.dir().resolve(text.get("tokenizer").asText())),
                text.get("tokenizer_sha256").asText());
        assertEquals(32, f.manifest().text().maxTokens());
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"BF16", "FP32"})
    void run_everyModelAtEverySize_outputsOfTheDeclaredShapesAndFinite(DType dtype) throws Exception {
        ModelFamily f = StandinFamily.get(dtype);
        int batch = 2;
        for (VideoSize size : f.conventions().videoSizes()) {
            for (String role : ROLES) {
                ModelEntry e = f.byRole(role);
                try (OnnxModel m = OnnxModel.load(f, e, RuntimeOptions.cpu(1))) {
                    List<ByteBuffer> out = m.run(inputs(e, batch, size, 1), shapes(e, batch, size));
                    for (int o = 0; o < out.size(); o++) {
                        TensorSpec t = e.outputs().get(o);
                        long[] want = t.withBatch(batch, size.binding());
                        String what = e.name() + " at " + size.describe() + ": " + t.name();
                        assertEquals(Arrays.stream(want).reduce(1, Math::multiplyExact) * t.dtype().bytes(),
                                out.get(o).remaining(), what + " " + Arrays.toString(want));
                        assertEquals(-1, Tensors.firstNonFinite(out.get(o), t.dtype()), what);
                    }
                    if (role.equals(ModelFamily.ROLE_DECODER)) {
                        for (float v : Tensors.floats(out.get(0))) {
                            assertTrue(v >= 0 && v <= 1, "video value " + v);
                        }
                    }
                }
            }
        }
    }

    @Test
    void run_velocityBf16AndFp32_agreeToBf16Rounding() throws Exception {
        ModelFamily bf = StandinFamily.get(DType.BF16);
        ModelFamily fp = StandinFamily.get(DType.FP32);
        VideoSize size = bf.conventions().videoSizes().get(1);
        for (String role : List.of(ModelFamily.ROLE_VELOCITY_LARGE, ModelFamily.ROLE_VELOCITY_SMALL)) {
            List<float[]> in = floatInputs(bf.byRole(role), 2, size, 5);
            float[] a = runFloats(bf, role, in, 2, size);
            float[] b = runFloats(fp, role, in, 2, size);
            int exact = 0;
            for (int i = 0; i < b.length; i++) {
                // one bf16 rounding of the same float32 result: within half a bf16 ulp (2^-8 relative)
                assertTrue(Math.abs(a[i] - b[i]) <= Math.abs(b[i]) * 0x1p-8f, role + " [" + i + "]: bf16 " + a[i]
                        + " vs fp32 " + b[i]);
                exact += Tensors.fromBf16(Tensors.toBf16(b[i])) == a[i] ? 1 : 0;
            }
            assertTrue(exact > b.length * 0.99, role + ": " + exact + " of " + b.length + " are fp32 rounded");
        }
    }

    @Test
    void run_velocity_dependsOnLatentTimestepAndContext() throws Exception {
        ModelFamily f = StandinFamily.get(DType.FP32);
        VideoSize size = f.conventions().defaultVideoSize();
        for (String role : List.of(ModelFamily.ROLE_VELOCITY_LARGE, ModelFamily.ROLE_VELOCITY_SMALL)) {
            List<float[]> in = floatInputs(f.byRole(role), 1, size, 9);
            float[] base = runFloats(f, role, in, 1, size);
            for (int k = 0; k < 3; k++) {
                List<float[]> changed = new ArrayList<>(in);
                float[] x = in.get(k).clone();
                x[0] += k == 1 ? 250 : 1;  // the timestep moves a quarter of the schedule
                changed.set(k, x);
                float[] v = runFloats(f, role, changed, 1, size);
                double diff = 0;
                for (int i = 0; i < v.length; i++) {
                    diff = Math.max(diff, Math.abs(v[i] - base[i]));
                }
                assertTrue(diff > 1e-3, role + ": changing " + f.byRole(role).inputs().get(k).name()
                        + " moved the velocity by at most " + diff);
            }
        }
    }

    @Test
    void run_textEncoder_paddedPositionsAreZero() throws Exception {
        ModelFamily f = StandinFamily.get(DType.BF16);
        ModelEntry e = f.byRole(ModelFamily.ROLE_TEXT_ENCODER);
        try (OnnxModel m = OnnxModel.load(f, e, RuntimeOptions.cpu(1))) {
            long[] ids = new long[32];
            long[] mask = new long[32];
            for (int i = 0; i < 5; i++) {
                ids[i] = 259 + i;
                mask[i] = 1;
            }
            ids[5] = 1;  // </s>
            mask[5] = 1;
            float[] ctx = Tensors.floats(m.run(List.of(Tensors.direct(ids), Tensors.direct(mask)), 1).get(0), DType.BF16);
            for (int pos = 0; pos < 32; pos++) {
                float[] row = Arrays.copyOfRange(ctx, pos * 64, pos * 64 + 64);
                boolean zero = true;
                for (float v : row) {
                    zero &= v == 0;
                }
                assertEquals(pos > 5, zero, "position " + pos + ": " + Arrays.toString(row));
            }
        }
    }

    @Test
    void generate_twice_byteIdenticalFiles(@TempDir Path dir) throws Exception {
        ModelFamily cached = StandinFamily.get(DType.BF16);
        StandinFamily.generate(dir, DType.BF16, 0);
        assertArrayEquals(Files.readAllBytes(cached.dir().resolve("manifest.json")),
                Files.readAllBytes(dir.resolve("manifest.json")));
        ModelFamily.load(dir);  // and every file matches the checksums both manifests list
    }

    private static float[] runFloats(ModelFamily f, String role, List<float[]> in, int batch, VideoSize size)
            throws Exception {
        ModelEntry e = f.byRole(role);
        try (OnnxModel m = OnnxModel.load(f, e, RuntimeOptions.cpu(1))) {
            return m.runFloats(in, shapes(e, batch, size)).get(0);
        }
    }

    static List<long[]> shapes(ModelEntry e, long batch, VideoSize size) {
        return e.inputs().stream().map(t -> t.withBatch(batch, size.binding())).toList();
    }

    /** Seeded inputs of every input of e: token ids and a mask for the text encoder, floats else. */
    static List<ByteBuffer> inputs(ModelEntry e, int batch, VideoSize size, long seed) {
        if (e.role().equals(ModelFamily.ROLE_TEXT_ENCODER)) {
            long[] ids = new long[batch * 32];
            long[] mask = new long[batch * 32];
            for (int b = 0; b < batch; b++) {
                for (int i = 0; i < 3 + b; i++) {
                    ids[b * 32 + i] = 259 + 7 * i + b;
                    mask[b * 32 + i] = 1;
                }
            }
            return List.of(Tensors.direct(ids), Tensors.direct(mask));
        }
        List<float[]> f = floatInputs(e, batch, size, seed);
        List<ByteBuffer> out = new ArrayList<>();
        for (int i = 0; i < f.size(); i++) {
            out.add(Tensors.direct(f.get(i), e.inputs().get(i).dtype()));
        }
        return out;
    }

    /** Gaussian values, bf16-representable (so both dtypes see the same inputs); timesteps in [0, 1000). */
    static List<float[]> floatInputs(ModelEntry e, int batch, VideoSize size, long seed) {
        Random r = new Random(seed);
        List<float[]> out = new ArrayList<>();
        for (TensorSpec t : e.inputs()) {
            long[] s = t.withBatch(batch, size.binding());
            float[] a = new float[Math.toIntExact(Arrays.stream(s).reduce(1, Math::multiplyExact))];
            for (int i = 0; i < a.length; i++) {
                a[i] = t.name().equals("timestep") ? (float) Math.floor(r.nextDouble() * 1000)
                        : Tensors.fromBf16(Tensors.toBf16((float) r.nextGaussian()));
            }
            out.add(a);
        }
        return out;
    }
}
