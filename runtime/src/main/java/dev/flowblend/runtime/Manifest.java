package dev.flowblend.runtime;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A model family's manifest.json: its models and the sampling conventions every module follows.
 * Immutable; load it through {@link ModelFamily#load}.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record Manifest(String family, List<ModelEntry> models, Conventions conventions, TextSpec text,
                       EvaluatorSpec evaluator) {

    public Manifest {
        Objects.requireNonNull(models, "manifest 'models'");
        Objects.requireNonNull(conventions, "manifest 'conventions'");
        models = List.copyOf(models);
    }

    /** Sampling conventions: flow prediction, shifted-sigma Euler (docs/architecture.md, "A generation, step by step"). */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Conventions(String predictionType, double timestepScale, double sigmaShift, int defaultSteps,
                              double defaultGuidanceScale, int[] latentShape, int[] videoShape, double frameRate) {
        public Conventions {
            if (!"flow".equals(predictionType)) {
                throw new IllegalArgumentException("conventions.prediction_type is '" + predictionType
                        + "'; flowblend samples flow (velocity) models only");
            }
            if (timestepScale <= 0 || sigmaShift <= 0 || defaultSteps <= 0) {
                throw new IllegalArgumentException("conventions: timestep_scale, sigma_shift and default_steps must be > 0");
            }
            Objects.requireNonNull(latentShape, "conventions.latent_shape");
            Objects.requireNonNull(videoShape, "conventions.video_shape");
        }

        public int latentElements() {
            int n = 1;
            for (int d : latentShape) {
                n *= d;
            }
            return n;
        }
    }

    /** How prompts become token ids for the text encoder. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record TextSpec(String vocabulary, int maxTokens, long padId, int contextDim, String nullPrompt) {
    }

    /**
     * The evaluator's attribute heads (output name to labels, in head order), its feature output,
     * the file of real-render feature statistics, and the prompt template whose {head} slots the
     * labels fill (so tools can sample prompts over the grammar and check the evaluator's verdict).
     */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record EvaluatorSpec(Map<String, List<String>> heads, String features, int featureDim, String reference,
                                String promptTemplate) {
    }
}
