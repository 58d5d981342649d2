package dev.flowblend.runtime;

import ai.onnxruntime.OrtException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Runs each model of a family on its golden inputs in ONNX Runtime and compares the outputs with
 * the ones the exporting framework computed (models/export writes them from our torch modules).
 * This is what says an export is faithful: the ONNX graph computes what the checkpoint's network
 * computes.
 *
 * <p>The tolerance, per output element: {@code |ort - golden| <= tolerance * max(1, max|golden|)},
 * plus, for BF16/FP16 outputs, one unit in the last place of the golden value — both sides compute
 * in FP32 and round the result to the wire type, so an FP32 difference far below the tolerance can
 * still land on the two sides of a rounding boundary.
 */
public final class GoldenCheck {
    /** The default tolerance, relative to the output's scale: FP32 kernels differ by ~1e-6 per op. */
    public static final double DEFAULT_TOLERANCE = 1e-4;

    /** One output of one model: the worst error (relative to the output's scale) and whether it passed. */
    public record Outcome(String model, String output, long elements, double maxAbsError, double scale,
                          double relativeError, long beyondFp32Tolerance, boolean passed) {
    }

    private GoldenCheck() {
    }

    /** Checks every model that has a golden; a model without one is skipped (listed by the caller). */
    public static List<Outcome> run(ModelFamily family, RuntimeOptions options, double tolerance)
            throws IOException, OrtException {
        if (!(tolerance > 0 && tolerance < 1)) {
            throw new IllegalArgumentException("tolerance is " + tolerance + "; must be in (0, 1)");
        }
        List<Outcome> out = new ArrayList<>();
        List<ModelEntry> models = family.models();
        for (int i = 0; i < models.size(); i++) {
            ModelEntry e = models.get(i);
            if (e.golden() != null) {
                out.addAll(check(family, e, "models[" + i + "].golden", options, tolerance));
            }
        }
        return out;
    }

    private static List<Outcome> check(ModelFamily family, ModelEntry e, String at, RuntimeOptions options,
                                       double tolerance) throws IOException, OrtException {
        Path f = ModelFamily.inside(family.dir(), e, at + ".file", e.golden().file());
        if (!Files.isRegularFile(f)) {
            throw new IllegalArgumentException(at + ".file: " + f + " does not exist");
        }
        String actual = ModelFamily.sha256(f);
        if (e.golden().sha256() == null || !e.golden().sha256().equalsIgnoreCase(actual)) {
            throw new IllegalArgumentException(at + ": " + f + " has sha256 " + actual + " but the manifest says "
                    + e.golden().sha256());
        }
        Map<String, Safetensors.Tensor> golden = Safetensors.read(f);
        List<ByteBuffer> inputs = new ArrayList<>();
        List<long[]> shapes = new ArrayList<>();
        for (TensorSpec t : e.inputs()) {
            Safetensors.Tensor g = tensor(golden, f, "input." + t.name(), t.dtype());
            inputs.add(ByteBuffer.allocateDirect(g.data().remaining()).put(g.data().duplicate()).flip());
            shapes.add(g.shape());
        }
        List<ByteBuffer> results;
        try (OnnxModel model = OnnxModel.load(family, e, options)) {
            results = model.run(inputs, shapes);
        }
        List<Outcome> out = new ArrayList<>();
        for (int k = 0; k < e.outputs().size(); k++) {
            TensorSpec t = e.outputs().get(k);
            Safetensors.Tensor g = tensor(golden, f, "output." + t.name(), t.dtype());
            out.add(compare(e.name(), t, g, results.get(k), tolerance));
        }
        return out;
    }

    private static Safetensors.Tensor tensor(Map<String, Safetensors.Tensor> golden, Path f, String name, DType want) {
        Safetensors.Tensor g = golden.get(name);
        if (g == null) {
            throw new IllegalArgumentException(f + ": no tensor '" + name + "' (has " + golden.keySet() + ")");
        }
        if (g.dtype() != want) {
            throw new IllegalArgumentException(f + ": tensor '" + name + "' is " + g.dtype().wireName()
                    + "; the manifest declares " + want.wireName());
        }
        return g;
    }

    static Outcome compare(String model, TensorSpec t, Safetensors.Tensor golden, ByteBuffer actual, double tolerance) {
        long n = golden.elements();
        if (actual.remaining() != golden.data().remaining()) {
            return new Outcome(model, t.name(), n, Double.POSITIVE_INFINITY, 0, Double.POSITIVE_INFINITY, n, false);
        }
        if (!t.dtype().floating()) {
            boolean same = actual.duplicate().equals(golden.data().duplicate());
            return new Outcome(model, t.name(), n, same ? 0 : 1, 1, same ? 0 : 1, same ? 0 : n, same);
        }
        double scale = 1;
        for (int i = 0; i < n; i++) {
            scale = Math.max(scale, Math.abs(Tensors.element(golden.data(), t.dtype(), i)));
        }
        double bound = tolerance * scale;
        double worst = 0;
        long beyond = 0;
        boolean passed = true;
        for (int i = 0; i < n; i++) {
            float g = Tensors.element(golden.data(), t.dtype(), i);
            float a = Tensors.element(actual, t.dtype(), i);
            double err = Math.abs((double) a - g);
            if (!(err <= bound)) {
                beyond++;
                if (!(err <= bound + ulp(t.dtype(), g))) {
                    passed = false;
                }
            }
            worst = Double.isNaN(err) ? Double.POSITIVE_INFINITY : Math.max(worst, err);
        }
        return new Outcome(model, t.name(), n, worst, scale, worst / scale, beyond, passed);
    }

    /** One unit in the last place of {@code v} in a 16-bit wire type; 0 for FP32. */
    private static double ulp(DType type, float v) {
        return switch (type) {
            case BF16 -> Math.ulp(v) * (1 << 16);
            case FP16 -> Math.max(Math.ulp(v) * (1 << 13), Math.pow(2, -24));
            default -> 0;
        };
    }
}
