package dev.flowblend.calibration;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A user-supplied ONNX feature extractor (e.g. a DINOv2 export), plugged in by flag. Two input
 * layouts are understood: a video model taking [B, F, H, W, 3] in [0, 1] (like the bundled
 * evaluator), or an image model taking [B, 3, H, W], fed every frame resized (bilinear) to its
 * fixed H x W and normalised with ImageNet mean/std; per-frame features are averaged. Outputs of
 * shape [B, D] are used as they are; [B, T, D] (ViT tokens) contributes token 0 (CLS).
 * Owns its session; thread-safe.
 */
public final class OnnxFeatureExtractor implements FeatureExtractor {
    private static final float[] MEAN = {0.485f, 0.456f, 0.406f};
    private static final float[] STD = {0.229f, 0.224f, 0.225f};

    private final OrtSession session;
    private final String input;
    private final String output;
    private final long[] inputShape;
    private final int[] videoShape;

    /** @param output the output to read, or null for the first */
    public OnnxFeatureExtractor(Path file, String output, int[] videoShape) {
        try {
            OrtEnvironment env = OrtEnvironment.getEnvironment();
            this.session = env.createSession(file.toString(), new OrtSession.SessionOptions());
            Map.Entry<String, NodeInfo> in = session.getInputInfo().entrySet().iterator().next();
            this.input = in.getKey();
            this.inputShape = ((TensorInfo) in.getValue().getInfo()).getShape();
            this.output = output != null ? output : session.getOutputNames().iterator().next();
            if (!session.getOutputNames().contains(this.output)) {
                throw new IllegalArgumentException("feature model " + file + " has no output '" + output + "'; outputs are "
                        + session.getOutputNames());
            }
        } catch (OrtException e) {
            throw new IllegalArgumentException("cannot load feature model " + file + ": " + e.getMessage(), e);
        }
        if (inputShape.length != 5 && !(inputShape.length == 4 && inputShape[1] == 3 && inputShape[2] > 0 && inputShape[3] > 0)) {
            throw new IllegalArgumentException("feature model " + file + " input '" + input + "' has shape "
                    + java.util.Arrays.toString(inputShape) + "; expected [B,F,H,W,3] or [B,3,H,W] with fixed H and W");
        }
        this.videoShape = videoShape.clone();
    }

    @Override
    public List<float[]> features(float[] videos, int n) throws Exception {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        List<float[]> out = new ArrayList<>(n);
        int f = videoShape[0], h = videoShape[1], w = videoShape[2];
        int per = f * h * w * 3;
        for (int i = 0; i < n; i++) {
            float[] video = java.util.Arrays.copyOfRange(videos, i * per, (i + 1) * per);
            if (inputShape.length == 5) {
                out.add(run(env, video, new long[] {1, f, h, w, 3}, 1));
            } else {
                int th = (int) inputShape[2], tw = (int) inputShape[3];
                float[] batch = new float[f * 3 * th * tw];
                for (int t = 0; t < f; t++) {
                    resizeNormalize(video, t * h * w * 3, h, w, batch, t * 3 * th * tw, th, tw);
                }
                float[] perFrame = run(env, batch, new long[] {f, 3, th, tw}, f);
                int d = perFrame.length / f;
                float[] mean = new float[d];
                for (int t = 0; t < f; t++) {
                    for (int j = 0; j < d; j++) {
                        mean[j] += perFrame[t * d + j] / f;
                    }
                }
                out.add(mean);
            }
        }
        return out;
    }

    private float[] run(OrtEnvironment env, float[] data, long[] shape, int batch) throws OrtException {
        try (OnnxTensor t = OnnxTensor.createTensor(env, FloatBuffer.wrap(data), shape);
             OrtSession.Result r = session.run(Map.of(input, t))) {
            OnnxTensor o = (OnnxTensor) r.get(output).orElseThrow();
            long[] s = o.getInfo().getShape();
            float[] all = new float[(int) o.getInfo().getNumElements()];
            o.getFloatBuffer().get(all);
            if (s.length == 3) {  // [B, T, D]: keep the CLS token of each item
                int tokens = (int) s[1], d = (int) s[2];
                float[] cls = new float[batch * d];
                for (int b = 0; b < batch; b++) {
                    System.arraycopy(all, b * tokens * d, cls, b * d, d);
                }
                return cls;
            }
            return all;
        }
    }

    /** Frame [H, W, 3] in [0,1] to normalised [3, th, tw] by bilinear sampling. */
    static void resizeNormalize(float[] src, int off, int h, int w, float[] dst, int dOff, int th, int tw) {
        for (int y = 0; y < th; y++) {
            double sy = Math.max(0, Math.min(h - 1, (y + 0.5) * h / th - 0.5));
            int y0 = (int) sy, y1 = Math.min(h - 1, y0 + 1);
            double fy = sy - y0;
            for (int x = 0; x < tw; x++) {
                double sx = Math.max(0, Math.min(w - 1, (x + 0.5) * w / tw - 0.5));
                int x0 = (int) sx, x1 = Math.min(w - 1, x0 + 1);
                double fx = sx - x0;
                for (int c = 0; c < 3; c++) {
                    double v = (1 - fy) * ((1 - fx) * src[off + (y0 * w + x0) * 3 + c] + fx * src[off + (y0 * w + x1) * 3 + c])
                            + fy * ((1 - fx) * src[off + (y1 * w + x0) * 3 + c] + fx * src[off + (y1 * w + x1) * 3 + c]);
                    dst[dOff + (c * th + y) * tw + x] = (float) ((v - MEAN[c]) / STD[c]);
                }
            }
        }
    }

    @Override
    public void close() {
        try {
            session.close();
        } catch (OrtException e) {
            throw new IllegalStateException(e);
        }
    }
}
