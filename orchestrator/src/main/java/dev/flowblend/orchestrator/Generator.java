package dev.flowblend.orchestrator;

import dev.flowblend.orchestrator.solver.Solver;
import dev.flowblend.runtime.Manifest;
import dev.flowblend.runtime.ModelEntry;
import dev.flowblend.runtime.ModelFamily;
import dev.flowblend.runtime.DType;
import dev.flowblend.runtime.TensorSpec;
import dev.flowblend.runtime.VideoSize;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

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
    private final DType contextWire;
    private final Solver defaultSolver;  // how the velocity models take their context: its id hashes those bytes

    public Generator(ModelFamily family, Backend backend, PromptEncoder prompts) {
        this.family = family;
        this.backend = backend;
        this.prompts = prompts;
        this.sampler = new Sampler(backend, family.conventions().timestepScale());
        this.defaultSolver = Solver.named(family.conventions().solver(), "manifest conventions.solver");
        TensorSpec ctx = family.byRole(ModelFamily.ROLE_VELOCITY_LARGE).input("context");
        this.contextWire = ctx != null ? ctx.dtype() : DType.FP32;
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

    /** The family's solver (manifest conventions.solver), checked when this generator was made. */
    public Solver defaultSolver() {
        return defaultSolver;
    }

    /** The pool of each step, after checking that the backend has every pool the plan names. */
    public String[] resolve(StagePlan plan, int steps) {
        return resolve(plan, steps, null);
    }

    /** {@link #resolve(StagePlan, int)} with the σ schedule of {@code size} (null: the default size). */
    public String[] resolve(StagePlan plan, int steps, VideoSize size) {
        for (String pool : plan.pools()) {
            if (!backend.hasPool(pool)) {
                throw new IllegalArgumentException("plan '" + plan.name() + "' names pool '" + pool
                        + "', which is not configured");
            }
        }
        return plan.resolve(steps, sigmas(steps, size));
    }

    /** The σ schedule at the default size. */
    public double[] sigmas(int steps) {
        return sigmas(steps, null);
    }

    /** The σ schedule with the shift {@code size} declares (null: the default size). */
    public double[] sigmas(int steps, VideoSize size) {
        VideoSize v = size != null ? size : family.conventions().defaultVideoSize();
        return SigmaSchedule.sigmas(steps, v.sigmaShift());
    }

    /**
     * Runs one generation. {@code listener} hears every step, fallback steps included (their
     * {@link Sampler.Step#pool} is the pool that ran them, {@link Sampler.Step#plannedPool} the
     * plan's); the result says which steps ran where, and which pools ran the text encoder and decoder.
     */
    public GenerationResult generate(GenerationSpec spec, Sampler.StepListener listener,
                                     Sampler.Cancellation cancellation) throws BackendException {
        Manifest.Conventions conv = family.conventions();
        VideoSize size = spec.size() != null ? spec.size() : conv.defaultVideoSize();
        String[] pools = resolve(spec.plan(), spec.steps(), size);
        long t0 = System.nanoTime();
        EncoderPool encoder = new EncoderPool(backend);
        Conditioning cond = prompts.encode(encoder, spec.promptTokens(), spec.negativeTokens(), spec.usesGuidance())
                .as(contextWire);
        long t1 = System.nanoTime();
        Map<String, List<Integer>> served = new LinkedHashMap<>();
        Map<List<String>, List<Integer>> fallbacks = new LinkedHashMap<>();  // [planned, served, reason] -> steps
        String[] ran = new String[pools.length];
        List<Integer> reused = new ArrayList<>();
        Map<String, Double> poolMs = new LinkedHashMap<>();
        float[] noise = Noise.gaussian(spec.seed(), size.latentElements(conv.latentChannels()));
        float[] latent = sampler.sample(noise, 1, sigmas(spec.steps(), size), pools, cond, spec.guidance(), size,
                spec.sampling(), step -> {
                    if (step.reused()) {
                        reused.add(step.index());  // no model ran: neither served nor counted in FLOPs
                        listener.onStep(step);
                        return;
                    }
                    served.computeIfAbsent(step.pool(), p -> new ArrayList<>()).add(step.index());
                    ran[step.index()] = step.pool();
                    if (step.fallbackReason() != null) {
                        fallbacks.computeIfAbsent(List.of(step.plannedPool(), step.pool(), step.fallbackReason()),
                                k -> new ArrayList<>()).add(step.index());
                    }
                    poolMs.merge(step.pool(), step.millis(), Double::sum);
                    listener.onStep(step);
                }, cancellation);
        long t2 = System.nanoTime();
        if (cancellation.cancelled()) {
            throw new BackendException(BackendException.Kind.CANCELLED, "generation cancelled before decoding");
        }
        Backend.Hosted frames = backend.decodeHosted(latent, 1, size);
        long t3 = System.nanoTime();
        List<GenerationResult.Fallback> fell = new ArrayList<>();
        fallbacks.forEach((k, steps) -> fell.add(new GenerationResult.Fallback(k.get(0), k.get(1), k.get(2),
                List.copyOf(steps))));
        return new GenerationResult(latent, frames.values(), size.videoShape(), pools, served, List.copyOf(fell),
                encoder.pool, frames.pool(), poolMs, (t1 - t0) / 1e6, (t2 - t1) / 1e6, (t3 - t2) / 1e6,
                flops(ran, cond.batch()), largeOnlyFlops(spec.steps(), cond.batch()), List.copyOf(reused));
    }

    /** Velocity FLOPs of a plan: each step costs its pool's model FLOPs per sample times the batch (null pool: none). */
    public double flops(String[] pools, int batch) {
        double total = 0;
        for (String pool : pools) {
            if (pool != null) {  // null: a step that reused a velocity
                total += modelFlops(backend.poolModel(pool)) * batch;
            }
        }
        return total;
    }

    public double largeOnlyFlops(int steps, int batch) {
        return (double) family.byRole(ModelFamily.ROLE_VELOCITY_LARGE).flopsPerSample() * batch * steps;
    }

    private double modelFlops(String model) {
        return family.byName(model).map(ModelEntry::flopsPerSample).orElse(0L);
    }

    /**
     * The backend as one generation's prompt encoding sees it: notes the pool that ran its text
     * encoder calls (none when the prompt cache had every context). Used by one thread.
     */
    private static final class EncoderPool implements Backend {
        private final Backend backend;
        String pool;

        EncoderPool(Backend backend) {
            this.backend = backend;
        }

        @Override
        public float[] encodeText(long[] tokenIds, long[] mask, int batch) throws BackendException {
            Hosted h = backend.encodeTextHosted(tokenIds, mask, batch);
            pool = h.pool();
            return h.values();
        }

        @Override
        public CompletableFuture<Velocity> velocityAsync(String p, float[] latent, float[] t, Conditioning c, int batch) {
            return backend.velocityAsync(p, latent, t, c, batch);
        }

        @Override
        public CompletableFuture<Velocity> velocityAsync(String p, float[] latent, float[] t, Conditioning c, int batch,
                                                         VideoSize size) {
            return backend.velocityAsync(p, latent, t, c, batch, size);
        }

        @Override
        public CompletableFuture<Velocity> guidedVelocityAsync(String p, float[] latent, float[] t, Conditioning c,
                                                               int samples, float guidance, VideoSize size) {
            return backend.guidedVelocityAsync(p, latent, t, c, samples, guidance, size);
        }

        @Override
        public float[] decode(float[] latent, int batch) throws BackendException {
            return backend.decode(latent, batch);
        }

        @Override
        public boolean hasPool(String p) {
            return backend.hasPool(p);
        }

        @Override
        public String poolModel(String p) {
            return backend.poolModel(p);
        }

        @Override
        public void close() {  // borrowed: the generator's backend is closed by its owner
        }
    }
}
