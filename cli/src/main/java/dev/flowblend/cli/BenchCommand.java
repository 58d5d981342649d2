package dev.flowblend.cli;

import dev.flowblend.orchestrator.GenerationResult;
import dev.flowblend.orchestrator.GenerationSpec;
import dev.flowblend.orchestrator.Generator;
import dev.flowblend.orchestrator.InProcessBackend;
import dev.flowblend.orchestrator.PromptEncoder;
import dev.flowblend.orchestrator.StagePlan;
import dev.flowblend.orchestrator.VideoEncoder;
import dev.flowblend.proto.generation.GenerateRequest;
import dev.flowblend.proto.generation.Plan;
import dev.flowblend.runtime.Json;
import dev.flowblend.runtime.ModelFamily;
import dev.flowblend.runtime.RuntimeOptions;
import dev.flowblend.runtime.Tokenizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * large-only vs a plan (flowblending by default), in-process (no RPC) and over gRPC (the demo's
 * processes on loopback), same prompts and seeds, runs interleaved so drift hits both plans and
 * both modes alike.
 * Speedups are ratios of medians measured in the same run: of the sampling loop (what the plan
 * changes, the quantity the FLOPs ratio predicts) and of the whole generation as a client sees it.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Benchmark large-only vs FlowBlending, in-process and over gRPC (or, with --transport, the "
                + "transport at WAN 480p sizes); prints a table (--json: a JSON line).")
final class BenchCommand implements Callable<Integer> {
    static final List<String> PROMPTS = List.of("a red circle moving right", "a blue square moving up",
            "a green triangle moving left", "a yellow circle moving down", "a magenta square moving right");

    @Option(names = "--runs", description = "Recorded generations per plan and mode (default: ${DEFAULT-VALUE}; "
            + "with 10 the gRPC/in-process ratio's 95%% interval was about +-0.1 on a shared 2-core VM, with 30 "
            + "+-0.04 to 0.08).")
    int runs = 30;

    @Option(names = "--warmup", description = "Unrecorded warm-up generations per plan and mode (over gRPC each pool "
            + "of the plan also runs alone), so every process runs JIT-compiled code as a long-running server does "
            + "(default: ${DEFAULT-VALUE}).")
    int warmup = 20;

    @Option(names = "--plan", description = "Plan to compare with large-only (default: ${DEFAULT-VALUE}).")
    String plan = "flowblending";

    @Option(names = "--threads", description = "ONNX Runtime intra-op threads in-process (default: ${DEFAULT-VALUE}, as the demo's workers).")
    int threads = 1;

    @Option(names = "--cluster", description = "Cluster config for the gRPC mode (default: deploy/demo.json).")
    Path cluster;

    @Option(names = "--cluster-jvm-options", description = "JVM options added to the cluster's processes for the "
            + "gRPC mode, whitespace-separated; empty for none (default: ${DEFAULT-VALUE}: HotSpot compiles the per-step "
            + "RPC path after ~20x fewer calls, so the warm-up reaches the compiled steady state a long-running server "
            + "reaches after tens of thousands of steps).")
    String clusterJvmOptions = CLUSTER_JVM_OPTIONS;

    /**
     * HotSpot compiles the per-step RPC path after ~20x fewer calls, so a short warm-up reaches the
     * compiled steady state a long-running server reaches after tens of thousands of steps.
     */
    static final String CLUSTER_JVM_OPTIONS = "-XX:CompileThresholdScaling=0.05";

    @Option(names = "--json", description = "Print a JSON summary as the last stdout line.")
    boolean json;

    @Mixin
    TransportOptions transport = new TransportOptions();

    /** Per-run timings of one plan in one mode. */
    record Times(List<Double> sampling, List<Double> total) {
        Times() {
            this(new ArrayList<>(), new ArrayList<>());
        }

        double medianSampling() {
            return median(sampling);
        }

        double medianTotal() {
            return median(total);
        }
    }

    /** Per-step samples of one pool in one mode: the orchestrator's step time, the worker's queue and model time. */
    record Steps(List<Double> millis, List<Double> queue, List<Double> compute) {
        Steps() {
            this(new ArrayList<>(), new ArrayList<>(), new ArrayList<>());
        }

        void add(double stepMs, double queueMs, double computeMs) {
            millis.add(stepMs);
            queue.add(queueMs);
            compute.add(computeMs);
        }

        /** Medians, and what the step cost beyond the worker's queue and model time. */
        Map<String, Double> summary() {
            Map<String, Double> m = new LinkedHashMap<>();
            m.put("step_ms", round(median(millis)));
            m.put("step_mean_ms", round(millis.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN)));
            m.put("step_p90_ms", round(percentile(millis, 0.9)));
            m.put("worker_queue_ms", round(median(queue)));
            m.put("worker_compute_ms", round(median(compute)));
            List<Double> rest = new ArrayList<>();
            for (int i = 0; i < millis.size(); i++) {
                rest.add(millis.get(i) - queue.get(i) - compute.get(i));
            }
            m.put("transport_ms", round(median(rest)));
            return m;
        }
    }

    @Override
    public Integer call() throws Exception {
        if (transport.enabled) {
            return transport();
        }
        if (runs < 1 || warmup < 0) {
            throw new IllegalArgumentException("--runs is " + runs + " and --warmup " + warmup
                    + "; need runs >= 1 and warmup >= 0");
        }
        ModelFamily family = ModelFamily.load(ModelFamily.defaultDirectory());
        StagePlan candidate = Plans.resolve(plan);
        StagePlan large = StagePlan.PRESETS.get("large-only");
        int stepCount = family.conventions().defaultSteps();
        Map<String, Times> inproc = times(large, candidate);
        Map<String, Times> grpc = times(large, candidate);
        Map<String, Map<String, Steps>> steps = new LinkedHashMap<>();  // mode -> pool -> recorded steps
        measure(family, large, candidate, inproc, grpc, steps);
        double flopsLarge;
        double flopsPlan;
        try (InProcessBackend b = InProcessBackend.largeSmall(family, RuntimeOptions.cpu(1));
             Tokenizer tokenizer = Tokenizer.load(family)) {
            Generator g = new Generator(family, b, new PromptEncoder(tokenizer, 16));
            flopsLarge = g.flops(g.resolve(large, stepCount), 2);
            flopsPlan = g.flops(g.resolve(candidate, stepCount), 2);
        }
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("plan", candidate.name());
        r.put("runs", runs);
        r.put("warmup", warmup);
        r.put("cluster_jvm_options", clusterJvmOptions);
        r.put("steps", stepCount);
        r.put("flops_speedup", round(flopsLarge / flopsPlan));
        r.put("inprocess_speedup", round(ratio(inproc, Times::medianSampling)));
        r.put("grpc_speedup", round(ratio(grpc, Times::medianSampling)));
        r.put("inprocess_e2e_speedup", round(ratio(inproc, Times::medianTotal)));
        r.put("grpc_e2e_speedup", round(ratio(grpc, Times::medianTotal)));
        r.put("grpc_over_inprocess", round((double) r.get("grpc_speedup") / (double) r.get("inprocess_speedup")));
        r.put("inprocess_over_flops", round((double) r.get("inprocess_speedup") / (double) r.get("flops_speedup")));
        // How much a repeat of this run could move them: resampling iterations, each keeping its four timings.
        double flops = flopsLarge / flopsPlan;
        r.put("grpc_over_inprocess_ci95", interval(idx -> speedup(grpc, idx) / speedup(inproc, idx)));
        r.put("inprocess_over_flops_ci95", interval(idx -> speedup(inproc, idx) / flops));
        // What a step costs over gRPC beyond the model itself: the transport's fixed per-step price.
        Map<String, Double> perStep = new LinkedHashMap<>();
        grpc.forEach((name, t) -> perStep.put(name,
                round((t.medianSampling() - inproc.get(name).medianSampling()) / stepCount)));
        r.put("grpc_step_overhead_ms", perStep);
        Map<String, Map<String, Map<String, Double>>> breakdown = new LinkedHashMap<>();
        steps.forEach((mode, byPool) -> {
            Map<String, Map<String, Double>> m = new LinkedHashMap<>();
            byPool.forEach((pool, st) -> m.put(pool, st.summary()));
            breakdown.put(mode, m);
        });
        r.put("step_breakdown", breakdown);
        table(inproc, grpc, r);
        if (json) {
            System.out.println(Json.writeCompact(r));
        }
        return 0;
    }

    private int transport() throws Exception {
        transport.validate();
        TickBar bar = new TickBar(System.err, "transport", (transport.warmup + transport.runs) * TransportBench.MODES.size());
        TransportBench.Result r = new TransportBench(transport).run(bar);
        Map<String, Object> s = TransportReport.summary(r);
        TransportReport.table(r, s, System.out);
        if (json) {
            System.out.println(Json.writeCompact(s));
        }
        return 0;
    }

    /**
     * Both modes in one loop: each iteration runs both plans in-process, then both over gRPC, so
     * drift on a shared machine hits the two modes alike as well as the two plans.
     */
    private void measure(ModelFamily family, StagePlan large, StagePlan candidate, Map<String, Times> inproc,
                         Map<String, Times> grpc, Map<String, Map<String, Steps>> steps) throws Exception {
        ClusterConfig base = ClusterConfig.load(cluster != null ? cluster : Launcher.home().resolve("deploy/demo.json"))
                .withMoreJvmOptions(ClusterConfig.splitOptions(clusterJvmOptions));
        try (InProcessBackend backend = InProcessBackend.largeSmall(family, RuntimeOptions.cpu(threads));
             LocalCluster c = LocalCluster.start(base); GenerationClient client = new GenerationClient(c.target());
             Tokenizer tokenizer = Tokenizer.load(family)) {
            PromptEncoder prompts = new PromptEncoder(tokenizer, 1024);
            Generator g = new Generator(family, backend, prompts);
            double guidance = family.conventions().defaultGuidanceScale();
            // gRPC warm-up also runs the candidate's other pools alone, so every worker process has
            // served as many steps as the large one (the candidate gives a middle pool 40% of them).
            List<StagePlan> warm = new ArrayList<>(List.of(large, candidate));
            candidate.pools().stream().filter(pool -> !large.pools().equals(List.of(pool)))
                    .forEach(pool -> warm.add(StagePlan.fractions(pool + "-only", pool, 1.0)));
            for (int i = -warmup; i < runs; i++) {  // i < 0 warms up, unrecorded
                String prompt = PROMPTS.get(Math.floorMod(i, PROMPTS.size()));
                int seed = Math.max(i, 0);
                List<StagePlan> grpcPlans = i < 0 ? warm : List.of(large, candidate);
                for (StagePlan p : List.of(large, candidate)) {
                    GenerationSpec spec = new GenerationSpec(prompt, prompts.tokens(prompt), prompts.tokens(""),
                            seed, family.conventions().defaultSteps(), guidance, p);
                    long t0 = System.nanoTime();
                    boolean record = i >= 0;
                    String[] previous = {null};
                    GenerationResult res = g.generate(spec, s -> {
                        if (record) {
                            steps.computeIfAbsent("in-process", m -> new LinkedHashMap<>())
                                    .computeIfAbsent(bucket(s.pool(), previous), q -> new Steps())
                                    .add(s.millis(), s.queueMillis(), s.computeMillis());
                        }
                    }, () -> false);
                    VideoEncoder.encode(res.frames(), res.frameShape(), VideoEncoder.Container.MP4, 8,
                            family.conventions().defaultFrameRate());
                    if (i >= 0) {
                        inproc.get(p.name()).sampling().add(res.samplingMs());
                        inproc.get(p.name()).total().add((System.nanoTime() - t0) / 1e6);
                    }
                }
                for (StagePlan p : grpcPlans) {
                    GenerateRequest req = GenerateRequest.newBuilder().setPrompt(prompt).setSeed(seed)
                            .setPlan(p == large ? Plan.newBuilder().setPreset("large-only").build() : Plans.toProto(p))
                            .build();
                    boolean record = i >= 0;
                    String[] previous = {null};
                    GenerationClient.Outcome o = client.generate(req, 600, x -> {
                        if (record) {
                            steps.computeIfAbsent("grpc", m -> new LinkedHashMap<>())
                                    .computeIfAbsent(bucket(x.getPool(), previous), q -> new Steps())
                                    .add(x.getMillis(), x.getWorkerQueueMillis(), x.getWorkerComputeMillis());
                        }
                    });
                    if (i >= 0) {
                        grpc.get(p.name()).sampling().add(o.result().getMetadata().getTimings().getSamplingMs());
                        grpc.get(p.name()).total().add(o.wallMs());
                    }
                }
                System.err.printf(Locale.ROOT, "\r%s %d/%d", i < 0 ? "warm-up" : "recorded", i < 0 ? i + 1 + warmup : i + 1,
                        i < 0 ? warmup : runs);
            }
            System.err.println();
        }
    }

    /**
     * Which breakdown a step belongs to: its pool, or "pool after switch" for the first step of a
     * pool after another pool's steps (that worker sat idle meanwhile, and its caches went cold).
     * {@code previous} holds the generation's previous step's pool; steps arrive in order.
     */
    static String bucket(String pool, String[] previous) {
        boolean switched = previous[0] != null && !previous[0].equals(pool);
        previous[0] = pool;
        return switched ? pool + " after switch" : pool;
    }

    private static Map<String, Times> times(StagePlan large, StagePlan candidate) {
        Map<String, Times> t = new LinkedHashMap<>();
        t.put(large.name(), new Times());
        t.put(candidate.name(), new Times());
        return t;
    }

    /** Large-only over the candidate, sampling medians over the iterations {@code idx}. */
    static double speedup(Map<String, Times> t, int[] idx) {
        List<Times> v = new ArrayList<>(t.values());
        return median(pick(v.get(0).sampling(), idx)) / median(pick(v.get(1).sampling(), idx));
    }

    private static List<Double> pick(List<Double> v, int[] idx) {
        List<Double> out = new ArrayList<>(idx.length);
        for (int i : idx) {
            out.add(v.get(i));
        }
        return out;
    }

    private List<Double> interval(java.util.function.ToDoubleFunction<int[]> statistic) {
        double[] ci = Bootstrap.interval95(runs, statistic, 2000, 1);
        return List.of(round(ci[0]), round(ci[1]));
    }

    private static double ratio(Map<String, Times> t, java.util.function.ToDoubleFunction<Times> f) {
        List<Times> v = new ArrayList<>(t.values());
        return f.applyAsDouble(v.get(0)) / f.applyAsDouble(v.get(1));
    }

    private static void table(Map<String, Times> inproc, Map<String, Times> grpc, Map<String, Object> r) {
        System.out.println();
        System.out.printf(Locale.ROOT, "%-12s %-14s %14s %14s%n", "mode", "plan", "sampling ms", "end-to-end ms");
        for (var mode : List.of(Map.entry("in-process", inproc), Map.entry("gRPC", grpc))) {
            mode.getValue().forEach((plan, t) -> System.out.printf(Locale.ROOT, "%-12s %-14s %14.1f %14.1f%n",
                    mode.getKey(), plan, t.medianSampling(), t.medianTotal()));
        }
        System.out.printf(Locale.ROOT, "%nspeedup (large-only / %s): FLOPs %.3fx; in-process %.3fx sampling, %.3fx "
                        + "end-to-end; gRPC %.3fx sampling, %.3fx end-to-end%n", r.get("plan"), r.get("flops_speedup"),
                r.get("inprocess_speedup"), r.get("inprocess_e2e_speedup"), r.get("grpc_speedup"), r.get("grpc_e2e_speedup"));
        System.out.printf(Locale.ROOT, "gRPC/in-process %.3f, 95%% interval %s (target >= 0.97); in-process/FLOPs %.3f, "
                        + "95%% interval %s (target >= 0.90)%n", r.get("grpc_over_inprocess"), r.get("grpc_over_inprocess_ci95"),
                r.get("inprocess_over_flops"), r.get("inprocess_over_flops_ci95"));
        System.out.printf(Locale.ROOT, "gRPC cost per step beyond the model (ms): %s%n", r.get("grpc_step_overhead_ms"));
        System.out.printf(Locale.ROOT, "per step, medians (ms): %s%n", r.get("step_breakdown"));
    }

    static double percentile(List<Double> v, double q) {
        double[] a = v.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        return a.length == 0 ? Double.NaN : a[Math.min(a.length - 1, (int) Math.floor(q * a.length))];
    }

    static double median(List<Double> v) {
        double[] a = v.stream().mapToDouble(Double::doubleValue).toArray();
        Arrays.sort(a);
        return a.length == 0 ? Double.NaN : a.length % 2 == 1 ? a[a.length / 2] : (a[a.length / 2 - 1] + a[a.length / 2]) / 2;
    }

    private static double round(double v) {
        return Math.round(v * 1000) / 1000.0;
    }
}
