package dev.flowblend.calibration;

import dev.flowblend.orchestrator.Backend;
import dev.flowblend.orchestrator.BackendException;
import dev.flowblend.orchestrator.Conditioning;
import dev.flowblend.orchestrator.Generator;
import dev.flowblend.orchestrator.Noise;
import dev.flowblend.orchestrator.PromptEncoder;
import dev.flowblend.orchestrator.Sampler;
import dev.flowblend.orchestrator.StagePlan;
import dev.flowblend.orchestrator.solver.Sampling;
import dev.flowblend.runtime.Manifest;
import dev.flowblend.runtime.TokenizedPrompt;
import dev.flowblend.runtime.Tokenizer;
import java.util.ArrayList;
import java.util.List;

/**
 * Many generations of one plan at once: the serving sampler with several samples per velocity
 * call (same noise per seed, same schedule, same guidance, same solver as a served generation:
 * the plan's, else the family's). Chunks keep
 * each call within the backend's batch limit. Thread-compatible: one caller at a time.
 */
public final class BatchGenerator {
    private final Generator generator;
    private final Backend backend;
    private final PromptEncoder prompts;
    private final Sampler sampler;
    private final Manifest.Conventions conventions;
    private final int chunk;

    public BatchGenerator(Generator generator, int chunk) {
        this.generator = generator;
        this.backend = generator.backend();
        this.prompts = generator.prompts();
        this.conventions = generator.family().conventions();
        this.sampler = new Sampler(backend, conventions.timestepScale());
        this.chunk = chunk;
    }

    /** Decoded videos of every sample, in order, with the wall time and velocity FLOPs spent. */
    public record Videos(float[] frames, int count, int[] frameShape, double wallMs, double flops, int reusedSteps) {
        public int frameValues() {
            return frames.length / count;
        }

        public float[] video(int i) {
            int per = frameValues();
            return java.util.Arrays.copyOfRange(frames, i * per, (i + 1) * per);
        }
    }

    public Videos generate(List<PromptSet.Sample> samples, StagePlan plan, int steps, double guidance,
                           Runnable onChunkStep) throws BackendException {
        String[] pools = generator.resolve(plan, steps);
        double[] sigmas = generator.sigmas(steps);
        Sampling sampling = plan.sampling(generator.defaultSolver());
        boolean[] reused = sampling.reused(pools, sigmas);
        int n = conventions.latentElements();
        int[] shape = conventions.videoShape();
        int per = shape[0] * shape[1] * shape[2] * shape[3];
        float[] frames = new float[samples.size() * per];
        boolean cfg = guidance != 1.0;
        long t0 = System.nanoTime();
        for (int start = 0; start < samples.size(); start += chunk) {
            List<PromptSet.Sample> part = samples.subList(start, Math.min(samples.size(), start + chunk));
            Conditioning cond = conditioning(part, cfg);
            float[] noise = noise(part, n);
            float[] latent = sampler.sample(noise, part.size(), sigmas, pools, cond, guidance, null, sampling,
                    s -> onChunkStep.run(), () -> false);
            float[] video = backend.decode(latent, part.size());
            System.arraycopy(video, 0, frames, start * per, video.length);
        }
        double wall = (System.nanoTime() - t0) / 1e6;
        String[] ran = pools.clone();
        for (int k = 0; reused != null && k < ran.length; k++) {
            if (reused[k]) {
                ran[k] = null;  // no model call
            }
        }
        return new Videos(frames, samples.size(), shape, wall, generator.flops(ran, cfg ? 2 : 1) * samples.size(),
                reused == null ? 0 : (int) java.util.stream.IntStream.range(0, reused.length).filter(k -> reused[k]).count());
    }

    Conditioning conditioning(List<PromptSet.Sample> part, boolean cfg) throws BackendException {
        List<TokenizedPrompt> ids = new ArrayList<>(part.size());
        try {
            for (PromptSet.Sample s : part) {
                ids.add(prompts.tokens(s.prompt()));
            }
            return prompts.encodeBatch(backend, ids, prompts.tokens(""), cfg);
        } catch (Tokenizer.PromptException e) {
            throw new IllegalArgumentException("prompt " + e.getMessage(), e);
        }
    }

    static float[] noise(List<PromptSet.Sample> part, int n) {
        float[] noise = new float[part.size() * n];
        for (int i = 0; i < part.size(); i++) {
            System.arraycopy(Noise.gaussian(part.get(i).seed(), n), 0, noise, i * n, n);
        }
        return noise;
    }

    public int chunk() {
        return chunk;
    }

    public Generator generator() {
        return generator;
    }

    Sampler sampler() {
        return sampler;
    }
}
