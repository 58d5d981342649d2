package dev.flowblend.orchestrator;

import dev.flowblend.runtime.Manifest;
import dev.flowblend.runtime.ModelEntry;
import dev.flowblend.runtime.ModelFamily;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One generation from prompt to frames: encode the prompt, sample the latent over the plan's
 * pools, decode. The same code runs in-process and over gRPC; only the {@link Backend} differs.
 * Thread-safe: concurrent generations share nothing mutable.
 */
public final class Generator {
    private final ModelFamily family;
    private final Backend backend;
    private final PromptEncoder prompts;
    private final Sampler sampler;

    public Generator(ModelFamily family, Backend backend, PromptEncoder prompts) {
        this.family = family;
        this.backend = backend;
        this.prompts = prompts;
        this.sampler = new Sampler(backend, family.conventions().timestepScale());
    }

    public ModelFamily family() {
        return family;
    }

    public PromptEncoder prompts() {
        return prompts;
    }

    public Backend backend() {
        return backend;
    }

    /** The pool of each step, after checking that the backend has every pool the plan names. */
    public String[] resolve(StagePlan plan, int steps) {
        for (String pool : plan.pools()) {
            if (!backend.hasPool(pool)) {
                throw new IllegalArgumentException("plan '" + plan.name() + "' names pool '" + pool
                        + "', which is not configured");
            }
        }
        return plan.resolve(steps, sigmas(steps));
    }

    public double[] sigmas(int steps) {
        return SigmaSchedule.sigmas(steps, family.conventions().sigmaShift());
    }

    public GenerationResult generate(GenerationSpec spec, Sampler.StepListener listener,
                                     Sampler.Cancellation cancellation) throws BackendException {
        String[] pools = resolve(spec.plan(), spec.steps());
        Manifest.Conventions conv = family.conventions();
        long t0 = System.nanoTime();
        Conditioning cond = prompts.encode(backend, spec.promptIds(), spec.negativeIds(), spec.usesGuidance());
        long t1 = System.nanoTime();
        Map<String, List<Integer>> served = new LinkedHashMap<>();
        Map<String, Double> poolMs = new LinkedHashMap<>();
        float[] noise = Noise.gaussian(spec.seed(), conv.latentElements());
        float[] latent = sampler.sample(noise, sigmas(spec.steps()), pools, cond, spec.guidance(),
                step -> {
                    served.computeIfAbsent(step.pool(), p -> new ArrayList<>()).add(step.index());
                    poolMs.merge(step.pool(), step.millis(), Double::sum);
                    listener.onStep(step);
                }, cancellation);
        long t2 = System.nanoTime();
        if (cancellation.cancelled()) {
            throw new BackendException(BackendException.Kind.CANCELLED, "generation cancelled before decoding");
        }
        float[] frames = backend.decode(latent, 1);
        long t3 = System.nanoTime();
        return new GenerationResult(latent, frames, conv.videoShape(), pools, served, poolMs,
                (t1 - t0) / 1e6, (t2 - t1) / 1e6, (t3 - t2) / 1e6,
                flops(pools, cond.batch()), largeOnlyFlops(spec.steps(), cond.batch()));
    }

    /** Velocity FLOPs of a plan: each step costs its pool's model FLOPs per sample times the batch. */
    public double flops(String[] pools, int batch) {
        double total = 0;
        for (String pool : pools) {
            total += modelFlops(backend.poolModel(pool)) * batch;
        }
        return total;
    }

    public double largeOnlyFlops(int steps, int batch) {
        return (double) family.byRole(ModelFamily.ROLE_VELOCITY_LARGE).flopsPerSample() * batch * steps;
    }

    private double modelFlops(String model) {
        return family.byName(model).map(ModelEntry::flopsPerSample).orElse(0L);
    }
}
