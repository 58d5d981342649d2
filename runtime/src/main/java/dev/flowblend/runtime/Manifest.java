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

    /**
     * Sampling conventions: flow prediction, the shifted-sigma schedule, the default solver (docs/architecture.md, "A generation,
     * step by step"), and the video sizes the family serves (docs/models.md). Every size's latent is
     * derived here, and a size the autoencoder or the patch cannot divide is refused at load, naming
     * the key.
     */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Conventions(String predictionType, double timestepScale, double sigmaShift, int defaultSteps,
                              double defaultGuidanceScale, int latentChannels, Compression compression, int[] patch,
                              List<SizeSpec> sizes, String defaultSize, int[] frameRates, String negativePrompt,
                              String solver) {
        /** The solver a family samples with unless a plan or request names another. */
        public static final String DEFAULT_SOLVER = "euler";

        public Conventions {
            if (!"flow".equals(predictionType)) {
                throw new IllegalArgumentException("conventions.prediction_type is '" + predictionType
                        + "'; flowblend samples flow (velocity) models only");
            }
            if (timestepScale <= 0 || sigmaShift <= 0 || defaultSteps <= 0) {
                throw new IllegalArgumentException("conventions: timestep_scale, sigma_shift and default_steps must be > 0");
            }
            if (latentChannels < 1) {
                throw new IllegalArgumentException("conventions.latent_channels is " + latentChannels + "; must be >= 1");
            }
            Objects.requireNonNull(compression, "conventions.compression");
            patch = patch == null ? new int[] {1, 1, 1} : patch.clone();
            if (patch.length != 3 || patch[0] < 1 || patch[1] < 1 || patch[2] < 1) {
                throw new IllegalArgumentException("conventions.patch is " + java.util.Arrays.toString(patch)
                        + "; must be [time, height, width], each >= 1");
            }
            if (sizes == null || sizes.isEmpty()) {
                throw new IllegalArgumentException("conventions.sizes is missing; declare at least one video size");
            }
            sizes = List.copyOf(sizes);
            frameRates = frameRates == null || frameRates.length == 0 ? new int[] {16} : frameRates.clone();
            for (int i = 0; i < frameRates.length; i++) {
                if (frameRates[i] < 1 || frameRates[i] > 240) {
                    throw new IllegalArgumentException("conventions.frame_rates[" + i + "] is " + frameRates[i]
                            + "; must be 1..240");
                }
            }
            negativePrompt = negativePrompt == null ? "" : negativePrompt;
            // the name is checked against the solvers the orchestrator has when a Generator loads the family
            solver = solver == null || solver.isBlank() ? DEFAULT_SOLVER : solver;
            java.util.Set<String> names = new java.util.HashSet<>();
            for (int i = 0; i < sizes.size(); i++) {
                VideoSize v = derive(sizes.get(i), i, compression, patch, sigmaShift);
                if (!names.add(v.name())) {
                    throw new IllegalArgumentException("conventions.sizes[" + i + "].name '" + v.name()
                            + "' is declared twice");
                }
            }
            if (defaultSize != null && !names.contains(defaultSize)) {
                throw new IllegalArgumentException("conventions.default_size is '" + defaultSize
                        + "'; must be one of the sizes' names " + names);
            }
        }

        @Override
        public int[] patch() {
            return patch.clone();
        }

        @Override
        public int[] frameRates() {
            return frameRates.clone();
        }

        /** Every declared size with its latent, in manifest order. */
        public List<VideoSize> videoSizes() {
            List<VideoSize> out = new java.util.ArrayList<>(sizes.size());
            for (int i = 0; i < sizes.size(); i++) {
                out.add(derive(sizes.get(i), i, compression, patch, sigmaShift));
            }
            return out;
        }

        /** default_size, or the first size. */
        public VideoSize defaultVideoSize() {
            List<VideoSize> all = videoSizes();
            return defaultSize == null ? all.get(0)
                    : all.stream().filter(v -> v.name().equals(defaultSize)).findFirst().orElseThrow();
        }

        /** The size with these dimensions, or null. */
        public VideoSize size(int frames, int height, int width) {
            for (VideoSize v : videoSizes()) {
                if (v.frames() == frames && v.height() == height && v.width() == width) {
                    return v;
                }
            }
            return null;
        }

        /** The first of frame_rates. */
        public int defaultFrameRate() {
            return frameRates[0];
        }

        /** Latent values of one sample at the default size. */
        public int latentElements() {
            return defaultVideoSize().latentElements(latentChannels);
        }

        /** [frames, height, width, 3] at the default size. */
        public int[] videoShape() {
            return defaultVideoSize().videoShape();
        }

        private static VideoSize derive(SizeSpec s, int i, Compression c, int[] patch, double defaultShift) {
            String at = "conventions.sizes[" + i + "]";
            if (s.name() == null || s.name().isBlank()) {
                throw new IllegalArgumentException(at + ".name is missing");
            }
            if (s.frames() < 1 || s.height() < 1 || s.width() < 1) {
                throw new IllegalArgumentException(at + " (" + s.name() + ") has frames " + s.frames() + ", height "
                        + s.height() + ", width " + s.width() + "; each must be >= 1");
            }
            double shift = s.sigmaShift() == null ? defaultShift : s.sigmaShift();
            if (!(shift > 0) || !Double.isFinite(shift)) {
                throw new IllegalArgumentException(at + ".sigma_shift is " + shift + "; must be > 0");
            }
            int lf;
            if (c.causal()) {
                if ((s.frames() - 1) % c.time() != 0) {
                    throw new IllegalArgumentException(at + ".frames is " + s.frames() + "; a causal autoencoder with "
                            + "time compression " + c.time() + " needs 1 + " + c.time() + "k frames");
                }
                lf = 1 + (s.frames() - 1) / c.time();
            } else {
                if (s.frames() % c.time() != 0) {
                    throw new IllegalArgumentException(at + ".frames is " + s.frames() + "; time compression "
                            + c.time() + " needs a multiple of " + c.time());
                }
                lf = s.frames() / c.time();
            }
            if (s.height() % c.space() != 0 || s.width() % c.space() != 0) {
                throw new IllegalArgumentException(at + " is " + s.height() + "x" + s.width() + "; space compression "
                        + c.space() + " needs height and width divisible by " + c.space());
            }
            int lh = s.height() / c.space();
            int lw = s.width() / c.space();
            if (lf % patch[0] != 0 || lh % patch[1] != 0 || lw % patch[2] != 0) {
                throw new IllegalArgumentException(at + " gives a latent of " + lf + "x" + lh + "x" + lw
                        + " (frames x height x width), which the patch " + java.util.Arrays.toString(patch)
                        + " does not divide");
            }
            return new VideoSize(s.name(), s.frames(), s.height(), s.width(), shift, lf, lh, lw);
        }
    }

    /** The autoencoder's compression: frames per latent frame, pixels per latent cell, causal first frame. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Compression(int time, int space, boolean causal) {
        public Compression {
            if (time < 1 || space < 1) {
                throw new IllegalArgumentException("conventions.compression has time " + time + ", space " + space
                        + "; each must be >= 1");
            }
        }
    }

    /** One entry of conventions.sizes as written; {@link Conventions#videoSizes} derives the latent. */
    public record SizeSpec(String name, int frames, int height, int width, Double sigmaShift) {
    }

    /**
     * How prompts become the text encoder's inputs ({@link Tokenizer}): {@code tokenizer} names the
     * family's Hugging Face tokenizer.json (relative to the manifest), {@code tokenizer_sha256} its
     * checksum (checked at load, as the models' are), {@code max_tokens} the encoder's sequence
     * length (prompts are padded to it with {@code pad_id}; longer ones are refused),
     * {@code context_dim} the width of a context row, {@code null_prompt} the text of the
     * unconditional branch (default empty).
     */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record TextSpec(String tokenizer, String tokenizerSha256, int maxTokens, long padId, int contextDim,
                           String nullPrompt) {
        public TextSpec {
            if (tokenizer == null || tokenizer.isBlank()) {
                throw new IllegalArgumentException("text.tokenizer is missing; name the family's tokenizer.json");
            }
            if (tokenizerSha256 != null && !tokenizerSha256.matches("[0-9a-fA-F]{64}")) {
                throw new IllegalArgumentException("text.tokenizer_sha256 is '" + tokenizerSha256
                        + "'; must be 64 hex digits (the SHA-256 of " + tokenizer + ")");
            }
            if (maxTokens < 1) {
                throw new IllegalArgumentException("text.max_tokens is " + maxTokens + "; must be >= 1");
            }
            if (padId < 0) {
                throw new IllegalArgumentException("text.pad_id is " + padId + "; must be >= 0");
            }
            if (contextDim < 1) {
                throw new IllegalArgumentException("text.context_dim is " + contextDim + "; must be >= 1");
            }
            nullPrompt = nullPrompt == null ? "" : nullPrompt;
        }
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
