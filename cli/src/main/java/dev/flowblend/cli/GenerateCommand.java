package dev.flowblend.cli;

import dev.flowblend.orchestrator.solver.HistoryAtSwitch;
import dev.flowblend.orchestrator.solver.Solver;
import dev.flowblend.proto.generation.Fallback;
import dev.flowblend.proto.generation.GenerateRequest;
import dev.flowblend.proto.generation.GenerationMetadata;
import dev.flowblend.proto.generation.VideoFormat;
import dev.flowblend.runtime.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** A gRPC client: asks an orchestrator for one video, shows progress, writes the file. */
@Command(name = "generate", mixinStandardHelpOptions = true,
        description = "Generate one video through a running orchestrator and write it to a file.")
final class GenerateCommand implements Callable<Integer> {
    @Mixin
    ClientOptions client = new ClientOptions();

    @Option(names = "--prompt", required = true, description = "What to generate, e.g. \"a red circle moving right\".")
    String prompt;

    @Option(names = "--negative-prompt", description = "Negative prompt (default: empty, the null prompt).")
    String negative = "";

    @Option(names = "--seed", description = "Noise seed (default: ${DEFAULT-VALUE}).")
    long seed = 0;

    @Option(names = "--steps", description = "Sampling steps (default: the family's, 50).")
    int steps = 0;

    @Option(names = "--guidance", description = "Guidance scale (default: the family's).")
    Float guidance;

    @Option(names = "--plan", description = "Preset (flowblending, large-only, small-only) or plan file (default: the orchestrator's).")
    String plan;

    @Option(names = "--solver", description = "ODE solver: euler, dpm++2m or unipc (default: the plan's, else the family's).")
    String solver = "";

    @Option(names = "--solver-history", description = "What a multistep solver's history does at a pool switch: "
            + "carry or reset (default: the plan's, else carry).")
    String solverHistory = "";

    @Option(names = "--out", description = "Output file, .mp4 or .gif (default: ${DEFAULT-VALUE}).")
    Path out = Path.of("out.mp4");

    @Option(names = "--scale", description = "Pixel upscale of the written video (default: the orchestrator's).")
    int scale = 0;

    @Option(names = "--timeout", description = "Deadline in seconds (default: ${DEFAULT-VALUE}).")
    long timeout = 600;

    @Option(names = "--progress-interval-ms", description = "Ask for progress events at most this often, in bursts; "
            + "0 sends every step as it finishes (default: the orchestrator's, 100).")
    Integer progressIntervalMs;

    @Option(names = "--json", description = "Also print a JSON summary (served steps, fallbacks, timings) as the last "
            + "stdout line.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        // every mistake is named before the orchestrator spends a generation on it
        nonNegative("--steps", steps);
        nonNegative("--scale", scale);
        if (!solver.isEmpty()) {
            Solver.named(solver, "--solver");
        }
        if (!solverHistory.isEmpty()) {
            HistoryAtSwitch.parse(solverHistory, "--solver-history");
        }
        if (progressIntervalMs != null) {
            nonNegative("--progress-interval-ms", progressIntervalMs);
        }
        client.check();
        VideoFormat format = formatOf(out);
        Path dir = out.toAbsolutePath().getParent();
        if (dir == null || !Files.isDirectory(dir) || !Files.isWritable(dir)) {
            throw new IllegalArgumentException("--out " + out + ": the folder " + dir
                    + " does not exist or is not writable");
        }
        GenerateRequest.Builder r = request(prompt, seed).setNegativePrompt(negative).setSteps(steps).setVideoScale(scale)
                .setFormat(format);
        if (guidance != null) {
            r.setGuidanceScale(guidance);
        }
        if (progressIntervalMs != null) {
            r.setProgressIntervalMs(progressIntervalMs);
        }
        r.setSolver(solver).setSolverHistory(solverHistory);
        if (plan != null) {
            Plans.toRequest(plan, r);
        }
        try (GenerationClient orchestrator = new GenerationClient(client.target,
                client.channel(System.getenv(), System.err::println), client.unavailableHint())) {
            ProgressBar bar = new ProgressBar(System.err, "sampling");
            GenerationClient.Outcome o = orchestrator.generate(r.build(), timeout, bar::update);
            Files.write(out, o.result().getVideo().toByteArray());
            System.out.println(summary(out, o));
            if (json) {
                System.out.println(Json.writeCompact(json(out, o)));
            }
        }
        return 0;
    }

    private static void nonNegative(String option, int value) {
        if (value < 0) {
            throw new IllegalArgumentException(option + " is " + value + "; must be 0 or more");
        }
    }

    /** The container the file name asks for: .mp4 or .gif; anything else is a mistake, not an MP4. */
    static VideoFormat formatOf(Path out) {
        String name = out.getFileName() == null ? "" : out.getFileName().toString().toLowerCase(Locale.ROOT);
        if (name.endsWith(".gif")) {
            return VideoFormat.VIDEO_FORMAT_GIF;
        }
        if (name.endsWith(".mp4")) {
            return VideoFormat.VIDEO_FORMAT_MP4;
        }
        throw new IllegalArgumentException("--out " + out + ": the file name must end in .mp4 (H.264) or .gif");
    }

    static GenerateRequest.Builder request(String prompt, long seed) {
        return GenerateRequest.newBuilder().setPrompt(prompt).setSeed(seed);
    }

    static String summary(Path out, GenerationClient.Outcome o) {
        GenerationMetadata m = o.result().getMetadata();
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "wrote %s (%d bytes, %s) in %.0f ms; plan %s%n", out,
                o.result().getVideo().size(), o.result().getMimeType(), o.wallMs(), m.getPlan()));
        m.getServedMap().forEach((pool, steps) -> b.append(String.format(Locale.ROOT, "  %-6s served %2d steps: %s%n",
                pool, steps.getStepsCount(), ranges(steps.getStepsList()))));
        // degraded, never silently: steps that ran on another pool (another model) than planned
        for (Fallback f : m.getFallbacksList()) {
            b.append(String.format(Locale.ROOT, "  FALLBACK %d steps planned on %s ran on %s (%s): %s%n",
                    f.getStepsCount(), f.getPlannedPool(), f.getServedPool(), f.getReason(), ranges(f.getStepsList())));
        }
        b.append(String.format(Locale.ROOT, "  velocity FLOPs %.3g (large-only %.3g, saving %.1f%%)",
                m.getFlops(), m.getLargeOnlyFlops(), 100 * (1 - m.getFlops() / m.getLargeOnlyFlops())));
        return b.toString();
    }

    /** The --json line: where the steps ran (fallbacks included), the shared models' pools, timings. */
    static Map<String, Object> json(Path out, GenerationClient.Outcome o) {
        GenerationMetadata m = o.result().getMetadata();
        Map<String, Object> j = new LinkedHashMap<>();
        j.put("output", out.toAbsolutePath().toString());
        j.put("bytes", o.result().getVideo().size());
        j.put("generation_id", o.result().getGenerationId());
        j.put("plan", m.getPlan());
        j.put("steps", m.getSteps());
        j.put("solver", m.getSolver());
        j.put("solver_history", m.getSolverHistory());
        j.put("wall_ms", Math.round(o.wallMs()));
        Map<String, List<Integer>> served = new LinkedHashMap<>();
        m.getServedMap().forEach((pool, steps) -> served.put(pool, steps.getStepsList()));
        j.put("served", served);
        List<Map<String, Object>> fallbacks = new ArrayList<>();
        for (Fallback f : m.getFallbacksList()) {
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("planned_pool", f.getPlannedPool());
            e.put("served_pool", f.getServedPool());
            e.put("reason", f.getReason());
            e.put("steps", f.getStepsList());
            fallbacks.add(e);
        }
        j.put("fallbacks", fallbacks);
        j.put("text_encoder_pool", m.getTextEncoderPool());
        j.put("decoder_pool", m.getDecoderPool());
        j.put("flops", m.getFlops());
        j.put("large_only_flops", m.getLargeOnlyFlops());
        return j;
    }

    /** "0-19, 40-49" for a sorted step list. */
    static String ranges(java.util.List<Integer> steps) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < steps.size(); ) {
            int j = i;
            while (j + 1 < steps.size() && steps.get(j + 1) == steps.get(j) + 1) {
                j++;
            }
            b.append(b.length() == 0 ? "" : ", ").append(steps.get(i));
            if (j > i) {
                b.append('-').append(steps.get(j));
            }
            i = j + 1;
        }
        return b.toString();
    }
}
