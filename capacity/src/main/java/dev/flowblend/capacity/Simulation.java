package dev.flowblend.capacity;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A discrete-event simulation of the serving policy. One generation, as Generator and Sampler
 * run it: admission (AdmissionQueue); the text encoder on text_encoder_pool, one call per
 * context (cond, and uncond when guided), each skipped when the prompt cache has it; then the
 * plan's steps in order, step k one call of stepSamples() samples to the least-loaded worker of
 * the pool the plan names, each preceded by the step overhead (the pool's step_overhead_ms, else
 * orchestrator.step_overhead_ms) that occupies no worker; one decoder call on decoder_pool; video
 * encoding on the orchestrator's encoder threads; then the slot is released, and the client has
 * the result orchestrator.request_overhead_ms later (transfer and client time). Workers batch as
 * {@link Worker} describes, at their models' costs under the plan (by_plan entries applied).
 *
 * <p>Not modelled: failures, retries, hedging and fallbacks; per-token limits; network
 * bandwidth (put transfer time into step_overhead_ms); step reuse; progress streaming.
 *
 * <p>Deterministic: the same costs and load (seed included) give the same result, bit for bit.
 * Each {@link #run} starts from an empty system. Not thread-safe; separate instances are.
 */
public final class Simulation {
    private final Costs costs;
    private final Load load;
    private final String[] stepPools;
    private final String[] stepModels;
    private final double[] stepOverheadMs;

    public Simulation(Costs costs, Load load) {
        this.costs = costs.check().forPlan();
        load.check(costs.orchestrator());
        this.load = load;
        this.stepPools = costs.plan().resolve();
        this.stepModels = new String[stepPools.length];
        this.stepOverheadMs = new double[stepPools.length];
        for (int k = 0; k < stepPools.length; k++) {
            PoolCosts p = costs.pools().get(stepPools[k]);
            stepModels[k] = p.velocityModel(stepPools[k]);
            stepOverheadMs[k] = p.stepOverheadMs(costs.orchestrator());
        }
    }

    public static SimResult run(Costs costs, Load load) {
        return new Simulation(costs, load).run();
    }

    public SimResult run() {
        return new Run().go();
    }

    /** One generation in flight. */
    private static final class Gen {
        final int index;
        final int client;
        final double arrival;
        final boolean measured;

        Gen(int index, int client, double arrival, boolean measured) {
            this.index = index;
            this.client = client;
            this.arrival = arrival;
            this.measured = measured;
        }
    }

    /** The state of one run. */
    private final class Run {
        final EventQueue clock = new EventQueue();
        final Recorder rec = new Recorder();
        final Map<String, Pool> pools = new LinkedHashMap<>();
        final Map<String, Integer> workers = new LinkedHashMap<>();
        final OrchestratorCosts o = costs.orchestrator();
        final EncoderThreads encoder = new EncoderThreads(o.encodeThreads(), o.encodeMs(), clock, rec);
        final AdmissionQueue<Gen> admission = new AdmissionQueue<>(o.maxConcurrentGenerations(),
                o.maxQueuedGenerations(), this::start);
        // a stream of its own, so a change of hit rate never moves the arrivals
        final SplittableRandom cache = new SplittableRandom(load.seed() ^ 0x9E3779B97F4A7C15L);
        int arrived;
        int completed;
        int refused;
        int pending = load.count();  // counted requests (the first count) not yet ended
        final Arrivals arrivals = new Arrivals(load, clock, this::arrive, () -> pending > 0);
        final Pool textEncoder;
        final Pool decoder;
        final int samples = costs.stepSamples();

        private int workerCount;

        Run() {
            costs.pools().forEach((name, p) -> {
                if (p.workers() == 0) {
                    return;
                }
                Worker[] w = new Worker[p.workers()];
                for (int i = 0; i < w.length; i++) {
                    w[i] = new Worker(name, p.models(), clock, rec, new Jitter(p.jitterCv(), p.jitterPeriodMs(),
                            load.seed() * 31 + workerCount++));
                }
                pools.put(name, new Pool(name, w));
                workers.put(name, w.length);
                rec.pool(name);
                p.models().keySet().forEach(rec::model);
            });
            textEncoder = pools.get(costs.textEncoderPool());
            decoder = pools.get(costs.decoderPool());
        }

        SimResult go() {
            arrivals.start();
            double end = load.maxSimulatedS() * 1000;
            while (pending > 0 && clock.runNext(end)) {
                // every action is scheduled by another; the run ends when every counted request has
                // ended (what is still in flight then is the tail that kept the load on)
            }
            int issued = Math.min(arrived, load.count());
            return SimResult.summarize(costs.plan().describe(), load.describe(), rec, workers, load.warmup(), issued,
                    completed, refused, issued - completed - refused, admission.peakRunning(), admission.peakQueued(),
                    o.encodeThreads(), clock.now(), clock.eventsRun());
        }

        /** A request; the first count are counted, the first warmup of those not measured, the rest are tail. */
        void arrive(int client) {
            Gen g = new Gen(arrived, client, clock.now(), arrived >= load.warmup() && arrived < load.count());
            arrived++;
            if (g.index < load.count()) {
                rec.arrivals.add(g.arrival);
            }
            if (!admission.admit(g)) {
                if (g.index < load.count()) {
                    refused++;
                    pending--;
                }
                arrivals.ended(client);
            }
        }

        void start(Gen g) {
            if (g.measured) {
                rec.admissionWaits.add(clock.now() - g.arrival);
            }
            encodeText(g, 0);
        }

        /** Context {@code ctx} (0: the prompt, 1: the negative prompt when guided), then the steps. */
        void encodeText(Gen g, int ctx) {
            int contexts = costs.guidance() ? 2 : 1;
            for (int c = ctx; c < contexts; c++) {
                double hitRate = c == 0 ? o.promptCacheHitRate() : o.negativePromptCacheHitRate();
                if (!(cache.nextDouble() < hitRate)) {
                    int next = c + 1;
                    textEncoder.submit(new Worker.Call(Costs.TEXT_ENCODER, 1, g.measured, () -> encodeText(g, next)));
                    return;
                }
            }
            step(g, 0);
        }

        void step(Gen g, int k) {
            if (k == stepPools.length) {
                decoder.submit(new Worker.Call(Costs.DECODER, 1, g.measured, () -> encoder.encode(() -> finish(g))));
                return;
            }
            Pool p = pools.get(stepPools[k]);
            Worker.Call call = new Worker.Call(stepModels[k], samples, g.measured, () -> step(g, k + 1));
            double overhead = stepOverheadMs[k];
            if (overhead > 0) {
                clock.after(overhead, () -> p.submit(call));
            } else {
                p.submit(call);
            }
        }

        /** The slot is free once the video is encoded; the client sees the result request_overhead_ms later. */
        void finish(Gen g) {
            admission.finished();
            if (o.requestOverheadMs() > 0) {
                clock.after(o.requestOverheadMs(), () -> delivered(g));
            } else {
                delivered(g);
            }
        }

        void delivered(Gen g) {
            if (g.index < load.count()) {
                completed++;
                pending--;
                rec.completions.add(clock.now());
            }
            if (g.measured) {
                rec.latencies.add(clock.now() - g.arrival);
                rec.latencyArrivals.add(g.arrival);
            }
            arrivals.ended(g.client);
        }
    }
}
