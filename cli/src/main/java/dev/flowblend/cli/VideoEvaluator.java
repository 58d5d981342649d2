package dev.flowblend.cli;

import dev.flowblend.runtime.Manifest;
import dev.flowblend.runtime.ModelEntry;
import dev.flowblend.runtime.ModelFamily;
import dev.flowblend.runtime.OnnxModel;
import dev.flowblend.runtime.RuntimeOptions;
import dev.flowblend.runtime.TensorSpec;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The family's evaluator (our CLIP/DINO stand-in): per-attribute labels and a feature vector for
 * decoded videos [N, F, H, W, 3]. Owns its ONNX session; thread-safe.
 */
final class VideoEvaluator implements AutoCloseable {
    private final OnnxModel model;
    private final Manifest.EvaluatorSpec spec;
    private final int featureIndex;

    VideoEvaluator(ModelFamily family, RuntimeOptions options) {
        ModelEntry entry = family.byRole(ModelFamily.ROLE_EVALUATOR);
        this.model = OnnxModel.load(family, entry, options);
        this.spec = family.manifest().evaluator();
        List<String> outs = entry.outputs().stream().map(TensorSpec::name).toList();
        this.featureIndex = outs.indexOf(spec.features());
    }

    /** Labels (head name to predicted label) and features of one video. */
    record Judgement(Map<String, String> labels, float[] features) {
        /** Whether every head's label appears as a word of the prompt. */
        boolean matches(String prompt) {
            List<String> words = List.of(prompt.toLowerCase(java.util.Locale.ROOT).split("\\s+"));
            return labels.values().stream().allMatch(words::contains);
        }

        String describe() {
            return String.join(" ", labels.values());
        }
    }

    List<Judgement> judge(float[] videos, int n) throws Exception {
        List<float[]> outs = model.runFloats(List.of(videos), n);
        List<Judgement> res = new ArrayList<>(n);
        List<String> heads = new ArrayList<>(spec.heads().keySet());
        for (int i = 0; i < n; i++) {
            Map<String, String> labels = new LinkedHashMap<>();
            for (int h = 0; h < heads.size(); h++) {
                List<String> names = spec.heads().get(heads.get(h));
                int outIndex = outputIndex(heads.get(h));
                float[] logits = outs.get(outIndex);
                int k = names.size();
                int best = 0;
                for (int j = 1; j < k; j++) {
                    if (logits[i * k + j] > logits[i * k + best]) {
                        best = j;
                    }
                }
                labels.put(heads.get(h), names.get(best));
            }
            int d = spec.featureDim();
            float[] f = new float[d];
            System.arraycopy(outs.get(featureIndex), i * d, f, 0, d);
            res.add(new Judgement(labels, f));
        }
        return res;
    }

    private int outputIndex(String name) {
        List<TensorSpec> outs = model.spec().outputs();
        for (int i = 0; i < outs.size(); i++) {
            if (outs.get(i).name().equals(name)) {
                return i;
            }
        }
        throw new IllegalStateException("evaluator has no output '" + name + "'");
    }

    @Override
    public void close() {
        model.close();
    }
}
