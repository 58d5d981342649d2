package dev.flowblend.calibration;

import dev.flowblend.runtime.Manifest;
import dev.flowblend.runtime.ModelEntry;
import dev.flowblend.runtime.ModelFamily;
import dev.flowblend.runtime.OnnxModel;
import dev.flowblend.runtime.RuntimeOptions;
import dev.flowblend.runtime.TensorSpec;
import java.util.ArrayList;
import java.util.List;

/**
 * The family's evaluator (our stand-in for CLIP/DINO/Inception): per-attribute labels and a
 * feature vector for decoded videos [N, F, H, W, 3]. Owns its ONNX session; thread-safe.
 */
public final class EvaluatorModel implements FeatureExtractor {
    private final OnnxModel model;
    private final Manifest.EvaluatorSpec spec;
    private final List<String> heads;
    private final int[] headOutputs;
    private final int featureOutput;
    private final int maxBatch;

    public EvaluatorModel(ModelFamily family, RuntimeOptions options) {
        ModelEntry entry = family.byRole(ModelFamily.ROLE_EVALUATOR);
        this.spec = family.manifest().evaluator();
        if (spec == null) {
            throw new IllegalArgumentException("manifest has no 'evaluator' section");
        }
        this.heads = List.copyOf(spec.heads().keySet());
        List<String> outs = entry.outputs().stream().map(TensorSpec::name).toList();
        this.headOutputs = heads.stream().mapToInt(outs::indexOf).toArray();
        this.featureOutput = outs.indexOf(spec.features());
        if (featureOutput < 0 || java.util.Arrays.stream(headOutputs).anyMatch(i -> i < 0)) {
            throw new IllegalArgumentException("evaluator outputs " + outs + " lack a head or '" + spec.features() + "'");
        }
        this.model = OnnxModel.load(family, entry, options);
        this.maxBatch = 64;
    }

    /** Head names in manifest order (e.g. color, shape, direction). */
    public List<String> heads() {
        return heads;
    }

    public List<String> labels(String head) {
        return spec.heads().get(head);
    }

    /** What the evaluator sees in one video: a label index per head, and its features. */
    public record Verdict(int[] labels, float[] features) {
    }

    public List<Verdict> judge(float[] videos, int n) throws Exception {
        int per = videos.length / n;
        List<Verdict> out = new ArrayList<>(n);
        for (int start = 0; start < n; start += maxBatch) {
            int m = Math.min(maxBatch, n - start);
            float[] chunk = java.util.Arrays.copyOfRange(videos, start * per, (start + m) * per);
            List<float[]> res = model.runFloats(List.of(chunk), m);
            int d = spec.featureDim();
            for (int i = 0; i < m; i++) {
                int[] labels = new int[heads.size()];
                for (int h = 0; h < heads.size(); h++) {
                    float[] logits = res.get(headOutputs[h]);
                    int k = spec.heads().get(heads.get(h)).size();
                    int best = 0;
                    for (int j = 1; j < k; j++) {
                        if (logits[i * k + j] > logits[i * k + best]) {
                            best = j;
                        }
                    }
                    labels[h] = best;
                }
                out.add(new Verdict(labels, java.util.Arrays.copyOfRange(res.get(featureOutput), i * d, (i + 1) * d)));
            }
        }
        return out;
    }

    @Override
    public List<float[]> features(float[] videos, int n) throws Exception {
        return judge(videos, n).stream().map(Verdict::features).toList();
    }

    /** The labels as a prompt; see {@link PromptMatch#describe}. */
    public String describe(Verdict v) {
        return PromptMatch.describe(spec, v.labels());
    }

    /** Whether the prompt says what the evaluator sees; see {@link PromptMatch#matches}. */
    public boolean matches(Verdict v, String prompt) {
        return PromptMatch.matches(spec, v.labels(), prompt);
    }

    @Override
    public void close() {
        model.close();
    }
}
