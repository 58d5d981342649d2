package dev.flowblend.cli;

import dev.flowblend.proto.generation.GenerateRequest;
import dev.flowblend.proto.generation.Plan;
import dev.flowblend.proto.generation.Result;
import dev.flowblend.proto.generation.VideoFormat;
import dev.flowblend.calibration.EvaluatorModel;
import dev.flowblend.runtime.Json;
import dev.flowblend.runtime.ModelFamily;
import dev.flowblend.runtime.RuntimeOptions;
import dev.flowblend.runtime.Tensors;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Brings up deploy/demo.json (an orchestrator, a large and a small worker, as separate processes
 * on loopback), warms every process as bench does, then generates the same video with the chosen
 * plan and large-only, interleaved, several times each, and reports where each step ran, the
 * median sampling and end-to-end times of both, their ratios, and what the evaluator sees in the
 * video. Sampling time (the loop the plan changes) and end-to-end time (prompt encoding, decoding,
 * video encoding and transport included) are reported apart because only the first scales with
 * the plan's FLOPs; one cold generation of each says neither.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Start orchestrator + large + small workers on loopback, generate one video, compare with large-only.")
final class DemoCommand implements Callable<Integer> {
    @Option(names = "--prompt", description = "Prompt (default: \"${DEFAULT-VALUE}\").")
    String prompt = "a red circle moving right";

    @Option(names = "--seed", description = "Seed (default: ${DEFAULT-VALUE}).")
    long seed = 7;

    @Option(names = "--steps", description = "Sampling steps (default: the family's, 50).")
    int steps = 0;

    @Option(names = "--plan", description = "Preset or plan file (default: ${DEFAULT-VALUE}).")
    String plan = "flowblending";

    @Option(names = "--out", description = "Output video; .gif for GIF, else MP4 (default: ${DEFAULT-VALUE}).")
    Path out = Path.of("out.mp4");

    @Option(names = "--scale", description = "Pixel upscale of the written video, 1..16 (default: ${DEFAULT-VALUE}).")
    int scale = 8;

    @Option(names = "--cluster", description = "Cluster config (default: deploy/demo.json).")
    Path cluster;

    @Option(names = "--warmup", description = "Unrecorded warm-up generations per plan, 0..1000 (each pool of the plan "
            + "also runs alone, as in bench) (default: ${DEFAULT-VALUE}).")
    int warmup = 10;

    @Option(names = "--runs", description = "Recorded generations per plan, interleaved, 1..1000; medians are "
            + "reported (default: ${DEFAULT-VALUE}).")
    int runs = 5;

    @Option(names = "--cluster-jvm-options", description = "JVM options added to the cluster's processes, "
            + "whitespace-separated; empty for none (default: ${DEFAULT-VALUE}, as bench).")
    String clusterJvmOptions = BenchCommand.CLUSTER_JVM_OPTIONS;

    @Option(names = "--json", description = "Print a JSON summary as the last stdout line.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        if (warmup < 0 || warmup > 1000 || runs < 1 || runs > 1000) {
            throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(this), "--warmup is " + warmup
                    + " and --runs " + runs + "; need --warmup 0..1000 and --runs 1..1000");
        }
        Path file = cluster != null ? cluster : Launcher.home().resolve("deploy/demo.json");
        ClusterConfig base = ClusterConfig.load(file).withMoreJvmOptions(ClusterConfig.splitOptions(clusterJvmOptions));
        ModelFamily family = ModelFamily.load(ModelFamily.defaultDirectory());
        System.out.println("starting " + base.workers().size() + " workers and the orchestrator from " + file + " ...");
        try (LocalCluster c = LocalCluster.start(base);
             GenerationClient client = new GenerationClient(c.target());
             EvaluatorModel evaluator = new EvaluatorModel(family, RuntimeOptions.cpu(1))) {
            System.out.println("cluster up (orchestrator " + c.target() + ", logs in " + c.logs() + ")");
            Plan chosen = Plans.toProto(plan);
            Plan largeOnly = Plan.newBuilder().setPreset("large-only").build();
            // warm-up (JIT, ONNX Runtime first-run allocations, every worker's caches), not reported
            List<Plan> warm = new java.util.ArrayList<>(List.of(chosen, largeOnly));
            warm.add(Plan.newBuilder().setPreset("small-only").build());
            for (int i = 0; i < warmup; i++) {
                for (Plan p : warm) {
                    client.generate(request(p).build(), 600, x -> { });
                }
                System.err.printf(Locale.ROOT, "\rwarm-up %d/%d", i + 1, warmup);
            }
            System.err.println();
            WarmTimings mine = new WarmTimings(), large = new WarmTimings();
            GenerationClient.Outcome main = null, base2 = null;
            for (int i = 0; i < runs; i++) {
                String label = String.format(Locale.ROOT, "run %d/%d ", i + 1, runs);
                GenerationClient.Outcome o = client.generate(request(chosen).build(), 600,
                        new ProgressBar(System.err, label + plan)::update);
                GenerationClient.Outcome l = client.generate(request(largeOnly).build(), 600,
                        new ProgressBar(System.err, label + "large-only")::update);
                mine.add(o);
                large.add(l);
                main = main == null ? o : main;
                base2 = base2 == null ? l : base2;
            }
            Files.write(out, main.result().getVideo().toByteArray());
            EvaluatorModel.Verdict j = judge(evaluator, main.result());
            EvaluatorModel.Verdict jl = judge(evaluator, base2.result());
            EvaluatorModel.Verdict jf = fileVerdict(evaluator, main.result());
            System.out.println(GenerateCommand.summary(out.toAbsolutePath(), main));
            System.out.printf(Locale.ROOT, "medians of %d warm runs each (after %d warm-up rounds):%n"
                            + "  sampling    %s %.0f ms, large-only %.0f ms: speedup %.2fx%n"
                            + "  end-to-end  %s %.0f ms, large-only %.0f ms: speedup %.2fx (prompt encoding, decoding, "
                            + "video encoding and transport do not shrink with the plan)%n", runs, warmup,
                    plan, mine.sampling(), large.sampling(), large.sampling() / mine.sampling(),
                    plan, mine.total(), large.total(), large.total() / mine.total());
            System.out.println("evaluator sees: \"" + evaluator.describe(j) + "\"" + (evaluator.matches(j, prompt)
                    ? " (matches the prompt)" : " (does NOT match the prompt)") + "; large-only video: \""
                    + evaluator.describe(jl) + "\"");
            if (jf != null) {
                System.out.println("evaluator sees in " + out + " (decoded back from H.264): \"" + evaluator.describe(jf)
                        + "\"" + (evaluator.matches(jf, prompt) ? " (matches the prompt)" : " (does NOT match the prompt)"));
            }
            if (json) {
                Map<String, Object> m = summary(main, mine, large, evaluator, j);
                if (jf != null) {
                    m.put("file_evaluator_sees", evaluator.describe(jf));
                    m.put("file_matches_prompt", evaluator.matches(jf, prompt));
                }
                System.out.println(Json.writeCompact(m));
            }
            return 0;
        }
    }

    private Map<String, Object> summary(GenerationClient.Outcome main, WarmTimings mine, WarmTimings large,
                                        EvaluatorModel evaluator, EvaluatorModel.Verdict j) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("output", out.toAbsolutePath().toString());
        m.put("prompt", prompt);
        m.put("seed", seed);
        m.put("plan", main.result().getMetadata().getPlan());
        Map<String, List<Integer>> served = new LinkedHashMap<>();
        main.result().getMetadata().getServedMap().forEach((k, v) -> served.put(k, v.getStepsList()));
        m.put("served", served);
        m.put("runs", runs);
        m.put("warmup", warmup);
        m.put("wall_ms", round(mine.total()));
        m.put("large_only_wall_ms", round(large.total()));
        m.put("speedup", round(large.total() / mine.total()));
        m.put("sampling_ms", round(mine.sampling()));
        m.put("large_only_sampling_ms", round(large.sampling()));
        m.put("sampling_speedup", round(large.sampling() / mine.sampling()));
        m.put("flops", main.result().getMetadata().getFlops());
        m.put("large_only_flops", main.result().getMetadata().getLargeOnlyFlops());
        m.put("evaluator_sees", evaluator.describe(j));
        m.put("evaluator_matches_prompt", evaluator.matches(j, prompt));
        return m;
    }

    private static double round(double v) {
        return Math.round(v * 100) / 100.0;
    }

    private GenerateRequest.Builder request(Plan p) {
        return GenerateRequest.newBuilder().setPrompt(prompt).setSeed(seed).setSteps(steps).setPlan(p)
                .setIncludeFrames(true).setVideoScale(scale)
                .setFormat(out.toString().toLowerCase(Locale.ROOT).endsWith(".gif")
                        ? VideoFormat.VIDEO_FORMAT_GIF : VideoFormat.VIDEO_FORMAT_MP4);
    }

    /** The evaluator's verdict on the written MP4 itself, decoded and scaled back (null for GIF). */
    private EvaluatorModel.Verdict fileVerdict(EvaluatorModel evaluator, Result r) throws Exception {
        if (!r.getMimeType().equals("video/mp4")) {
            return null;
        }
        int[] shape = new int[4];
        float[] frames = dev.flowblend.orchestrator.Mp4Reader.frames(Files.readAllBytes(out), scale, shape);
        return evaluator.judge(frames, 1).get(0);
    }

    static EvaluatorModel.Verdict judge(EvaluatorModel evaluator, Result r) throws Exception {
        float[] frames = Tensors.floats(r.getFrames().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN));
        return evaluator.judge(frames, 1).get(0);
    }
}
