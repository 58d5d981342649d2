package dev.flowblend.calibration;

import dev.flowblend.runtime.Manifest;
import dev.flowblend.runtime.ModelFamily;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Prompts sampled over the family's grammar: sample i gets seed offset + i and labels drawn from
 * that seed, so any (offset, count) reproduces the same prompts and noise everywhere.
 */
public final class PromptSet {
    private PromptSet() {
    }

    /** One prompt with its attribute labels (an index per evaluator head) and its noise seed. */
    public record Sample(String prompt, int[] labels, long seed) {
    }

    public static List<Sample> grammar(ModelFamily family, int n, long seedOffset) {
        Manifest.EvaluatorSpec spec = family.manifest().evaluator();
        if (spec == null || spec.promptTemplate() == null) {
            throw new IllegalArgumentException("manifest evaluator section needs 'heads' and 'prompt_template'");
        }
        List<String> heads = List.copyOf(spec.heads().keySet());
        List<Sample> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            long seed = seedOffset + i;
            Random r = new Random(seed * 0x9E3779B97F4A7C15L + 17);
            int[] labels = new int[heads.size()];
            String prompt = spec.promptTemplate();
            for (int h = 0; h < heads.size(); h++) {
                List<String> names = spec.heads().get(heads.get(h));
                labels[h] = r.nextInt(names.size());
                prompt = prompt.replace("{" + heads.get(h) + "}", names.get(labels[h]));
            }
            out.add(new Sample(prompt, labels, seed));
        }
        return out;
    }
}
