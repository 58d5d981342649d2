package dev.flowblend.cli;

import dev.flowblend.calibration.Evaluation;
import dev.flowblend.calibration.PlanQuality;
import dev.flowblend.calibration.PromptSet;
import dev.flowblend.orchestrator.StagePlan;
import dev.flowblend.orchestrator.solver.Sampling;
import dev.flowblend.runtime.Json;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Quality and cost of a plan over N prompts of the grammar, against large-only on the same seeds. */
@Command(name = "evaluate", mixinStandardHelpOptions = true,
        description = "Generate N videos over the prompt grammar with a plan; report accuracy, similarity to large-only, "
                + "Fréchet distance to real renders, FLOPs and wall time.")
final class EvaluateCommand implements Callable<Integer> {
    @Option(names = "--plan", description = "Preset (flowblending, large-only, small-only) or plan file (default: ${DEFAULT-VALUE}).")
    String plan = "flowblending";

    @Option(names = "--samples", description = "Videos to generate (default: ${DEFAULT-VALUE}).")
    int samples = 256;

    @Option(names = "--seed-offset", description = "First seed; sample i uses seed offset+i (default: ${DEFAULT-VALUE}).")
    long seedOffset = 0;

    @Option(names = "--steps", description = "Sampling steps (default: the family's).")
    int steps = 0;

    @Option(names = "--guidance", description = "Guidance scale (default: the family's).")
    Double guidance;

    @Option(names = "--json", description = "Print a JSON summary as the last stdout line.")
    boolean json;

    @Mixin
    Engines.Options engine = new Engines.Options();

    @Override
    public Integer call() throws Exception {
        if (samples < 2) {
            throw new IllegalArgumentException("--samples is " + samples + "; must be >= 2 (Fréchet needs a covariance)");
        }
        StagePlan p = Plans.resolve(plan);
        try (Engines e = new Engines(engine, steps, guidance)) {
            List<PromptSet.Sample> set = PromptSet.grammar(e.family, samples, seedOffset);
            Evaluation ev = e.evaluation;
            int chunk = ev.generator().chunk();
            TickBar bar = new TickBar(System.err, "evaluate", (ev.steps() + ev.steps(p)) * ((samples + chunk - 1) / chunk));
            Evaluation.Run large = ev.run(StagePlan.PRESETS.get("large-only"), set, bar);
            Evaluation.Run run = p.equals(StagePlan.PRESETS.get("large-only")) ? large : ev.run(p, set, bar);
            bar.finish();
            PlanQuality q = ev.measure(run, large, set);
            PlanQuality ql = ev.measure(large, large, set);
            System.out.printf(Locale.ROOT, "plan %s (%s), %d videos, seeds %d..%d%n", p.name(), p.describe(), samples,
                    seedOffset, seedOffset + samples - 1);
            print("this plan", q);
            print("large-only", ql);
            if (json) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("plan", p.name());
                m.put("segments", p.describe());
                Sampling sampling = p.sampling(ev.generator().generator().defaultSolver());
                m.put("solver", sampling.solver().name());
                m.put("solver_history", sampling.history().wireName());
                m.put("steps", ev.steps(p));
                m.put("reused_steps", run.videos().reusedSteps());
                m.put("samples", samples);
                m.put("seed_offset", seedOffset);
                m.put("accuracy", q.accuracy());
                m.put("attribute_accuracy", q.attributeAccuracy());
                m.put("frechet", q.frechet());
                m.put("similarity", q.similarity());
                m.put("psnr", q.psnr());
                m.put("ssim", q.ssim());
                m.put("motion_similarity", q.motionSimilarity());
                m.put("flops", q.flops());
                m.put("flops_saving", q.flopsSaving());
                m.put("wall_ms", q.wallMs());
                m.put("large_only", Map.of("accuracy", ql.accuracy(), "frechet", ql.frechet(), "flops", ql.flops(),
                        "wall_ms", ql.wallMs()));
                System.out.println(Json.writeCompact(m));
            }
        }
        return 0;
    }

    static void print(String label, PlanQuality q) {
        System.out.printf(Locale.ROOT, "  %-10s accuracy %.3f %s  frechet %.3f  similarity %.4f  psnr %.2f dB  ssim %.4f  "
                        + "motion %.4f  flops/video %.3g (saving %.1f%%)  %.1f ms/video%n", label, q.accuracy(),
                q.attributeAccuracy(), q.frechet(), q.similarity(), q.psnr(), q.ssim(), q.motionSimilarity(), q.flops(),
                100 * q.flopsSaving(), q.wallMs());
    }
}
