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
 * on loopback), generates one video with the chosen plan and the same one large-only, and reports
 * where each step ran, the wall times and what the evaluator sees in the video.
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

    @Option(names = "--json", description = "Print a JSON summary as the last stdout line.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        Path file = cluster != null ? cluster : Launcher.home().resolve("deploy/demo.json");
        ClusterConfig base = ClusterConfig.load(file);
        ModelFamily family = ModelFamily.load(ModelFamily.defaultDirectory());
        System.out.println("starting " + base.workers().size() + " workers and the orchestrator from " + file + " ...");
        try (LocalCluster c = LocalCluster.start(base);
             GenerationClient client = new GenerationClient(c.target());
             EvaluatorModel evaluator = new EvaluatorModel(family, RuntimeOptions.cpu(1))) {
            System.out.println("cluster up (orchestrator " + c.target() + ", logs in " + c.logs() + ")");
            Plan chosen = Plans.toProto(plan);
            Plan largeOnly = Plan.newBuilder().setPreset("large-only").build();
            // warm-up (JIT, ONNX Runtime first-run allocations), not reported
            client.generate(request(chosen).setSteps(4).build(), 600, p -> { });
            client.generate(request(largeOnly).setSteps(4).build(), 600, p -> { });
            GenerationClient.Outcome main = client.generate(request(chosen).build(), 600,
                    new ProgressBar(System.err, plan)::update);
            Files.write(out, main.result().getVideo().toByteArray());
            GenerationClient.Outcome base2 = client.generate(request(largeOnly).build(), 600,
                    new ProgressBar(System.err, "large-only")::update);
            EvaluatorModel.Verdict j = judge(evaluator, main.result());
            EvaluatorModel.Verdict jl = judge(evaluator, base2.result());
            EvaluatorModel.Verdict jf = fileVerdict(evaluator, main.result());
            System.out.println(GenerateCommand.summary(out.toAbsolutePath(), main));
            System.out.printf(Locale.ROOT, "large-only: %.0f ms (this plan: %.0f ms, speedup %.2fx)%n", base2.wallMs(),
                    main.wallMs(), base2.wallMs() / main.wallMs());
            System.out.println("evaluator sees: \"" + evaluator.describe(j) + "\"" + (evaluator.matches(j, prompt)
                    ? " (matches the prompt)" : " (does NOT match the prompt)") + "; large-only video: \""
                    + evaluator.describe(jl) + "\"");
            if (jf != null) {
                System.out.println("evaluator sees in " + out + " (decoded back from H.264): \"" + evaluator.describe(jf)
                        + "\"" + (evaluator.matches(jf, prompt) ? " (matches the prompt)" : " (does NOT match the prompt)"));
            }
            if (json) {
                Map<String, Object> m = summary(main, base2, evaluator, j);
                if (jf != null) {
                    m.put("file_evaluator_sees", evaluator.describe(jf));
                    m.put("file_matches_prompt", evaluator.matches(jf, prompt));
                }
                System.out.println(Json.writeCompact(m));
            }
            return 0;
        }
    }

    private Map<String, Object> summary(GenerationClient.Outcome main, GenerationClient.Outcome largeOnly,
                                        EvaluatorModel evaluator, EvaluatorModel.Verdict j) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("output", out.toAbsolutePath().toString());
        m.put("prompt", prompt);
        m.put("seed", seed);
        m.put("plan", main.result().getMetadata().getPlan());
        Map<String, List<Integer>> served = new LinkedHashMap<>();
        main.result().getMetadata().getServedMap().forEach((k, v) -> served.put(k, v.getStepsList()));
        m.put("served", served);
        m.put("wall_ms", round(main.wallMs()));
        m.put("large_only_wall_ms", round(largeOnly.wallMs()));
        m.put("speedup", round(largeOnly.wallMs() / main.wallMs()));
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
