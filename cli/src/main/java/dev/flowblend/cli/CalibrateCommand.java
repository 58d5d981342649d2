package dev.flowblend.cli;

import dev.flowblend.calibration.Calibrator;
import dev.flowblend.calibration.PlanQuality;
import dev.flowblend.calibration.Sweep;
import dev.flowblend.calibration.Tolerances;
import dev.flowblend.orchestrator.solver.HistoryAtSwitch;
import dev.flowblend.orchestrator.solver.Solver;
import dev.flowblend.runtime.Json;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Finds stage boundaries automatically and writes a plan file the orchestrator, generate and demo accept. */
@Command(name = "calibrate", mixinStandardHelpOptions = true,
        description = "Velocity divergence, boundary sweep and selection: the cheapest plan (by FLOPs) within the "
                + "quality tolerances, written as a plan file plus CSV/JSON/PNG reports.")
final class CalibrateCommand implements Callable<Integer> {
    /** A sweep's many candidates need a larger confirmation than one search's few. */
    static final int DEFAULT_CONFIRM_SAMPLES = 512;

    @Option(names = "--samples", description = "Videos per plan (default: ${DEFAULT-VALUE}).")
    int samples = 128;

    @Option(names = "--validation-samples", description = "Videos of a disjoint seed set on which a passing candidate "
            + "must pass again before it can be chosen; 0 disables (default: ${DEFAULT-VALUE}).")
    int validationSamples = 128;

    @Option(names = "--confirm-samples", description = "Videos of a third disjoint seed set on which the passing "
            + "plans are confirmed, cheapest first, the first confirmed being the choice; 0 disables "
            + "(default: 512 with --sweep-solvers, else 0).")
    Integer confirmSamples;

    @Option(names = "--confirm-confidence", description = "A plan is confirmed only if it also meets the tolerances "
            + "on at least this share of bootstrap resamples of the confirmation set, 0..1; 0: the measurement alone "
            + "decides (default: ${DEFAULT-VALUE}).")
    double confirmConfidence = 0.9;

    @Option(names = "--divergence-samples", description = "Prompts x seeds for the divergence curve (default: ${DEFAULT-VALUE}).")
    int divergenceSamples = 32;

    @Option(names = "--seed-offset", description = "First seed of the calibration set (default: ${DEFAULT-VALUE}).")
    long seedOffset = 0;

    @Option(names = "--min-similarity", description = "Feature similarity to large-only at least (default: ${DEFAULT-VALUE}).")
    double minSimilarity = Tolerances.DEFAULT.minSimilarity();

    @Option(names = "--min-accuracy-ratio", description = "Accuracy at least this x large-only's (default: ${DEFAULT-VALUE}).")
    double minAccuracyRatio = Tolerances.DEFAULT.minAccuracyRatio();

    @Option(names = "--max-frechet-ratio", description = "Fréchet distance at most this x large-only's (default: ${DEFAULT-VALUE}).")
    double maxFrechetRatio = Tolerances.DEFAULT.maxFrechetRatio();

    @Option(names = "--early-grid", split = ",", description = "Step fractions where the small model may start; 0 = from the first step (default: 0,0.05,...,0.6).")
    double[] earlyGrid = {0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6};

    @Option(names = "--late-grid", split = ",", description = "Step fractions where the large model returns; 1.0 = never (default: 0.5,0.55,...,1.0).")
    double[] lateGrid = {0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 1.0};

    @Option(names = "--budget", description = "At most this many candidate plans are generated (default: ${DEFAULT-VALUE}).")
    int budget = 9;

    @Option(names = "--sweep-solvers", split = ",", description = "Also search these solvers (euler, dpm++2m, unipc) "
            + "at every --sweep-steps count, against the same large-only reference (default: none).")
    List<String> sweepSolvers = List.of();

    @Option(names = "--sweep-steps", split = ",", description = "Step counts of the sweep (default: 6,8,10,15,20,30).")
    int[] sweepSteps = {6, 8, 10, 15, 20, 30};

    @Option(names = "--sweep-history", description = "The sweep's solver history at a pool switch: carry or reset "
            + "(default: ${DEFAULT-VALUE}).")
    String sweepHistory = "carry";

    @Option(names = "--sweep-budget", description = "FlowBlending plans generated per sweep configuration at most "
            + "(default: ${DEFAULT-VALUE}).")
    int sweepBudget = 5;

    @Option(names = "--reuse-budgets", split = ",", description = "Step-reuse budgets (ascending, each in (0, 1]) "
            + "tried on the cheapest plan found; the largest that still passes is kept (default: none).")
    double[] reuseBudgets = {};

    @Option(names = "--steps", description = "Sampling steps (default: the family's).")
    int steps = 0;

    @Option(names = "--out", description = "Output directory (default: ${DEFAULT-VALUE}).")
    Path out = Path.of("runs", "calibration");

    @Option(names = "--json", description = "Print a JSON summary as the last stdout line.")
    boolean json;

    @Mixin
    Engines.Options engine = new Engines.Options();

    @Override
    public Integer call() throws Exception {
        Tolerances tol = new Tolerances(minSimilarity, minAccuracyRatio, maxFrechetRatio);
        try (Engines e = new Engines(engine, steps, null)) {
            List<Solver> solvers = sweepSolvers.stream().map(n -> Solver.named(n, "--sweep-solvers")).toList();
            List<Sweep.Config> sweep = Sweep.grid(solvers, sweepSteps,
                    HistoryAtSwitch.parse(sweepHistory, "--sweep-history"));
            Calibrator.Options o = new Calibrator.Options(samples, validationSamples, divergenceSamples, seedOffset, tol,
                    earlyGrid, lateGrid, budget, out, sweep, sweepBudget, reuseBudgets,
                    confirmSamples != null ? confirmSamples : sweep.isEmpty() ? 0 : DEFAULT_CONFIRM_SAMPLES,
                    confirmConfidence);
            TickBar[] bar = new TickBar[1];
            Calibrator c = new Calibrator(e.family, e.evaluation, o, () -> bar[0].run(), msg -> {
                System.err.println();
                System.err.println(msg);
            });
            bar[0] = new TickBar(System.err, "calibrate", c.maxTicks());
            long t0 = System.nanoTime();
            Calibrator.Report r = c.run();
            bar[0].finish();
            double minutes = (System.nanoTime() - t0) / 60e9;
            System.out.println("divergence by phase (mean relative L2): " + r.divergenceByPhase());
            for (PlanQuality q : r.measured().values()) {
                EvaluateCommand.print(q.plan(), q);
            }
            if (r.sweep() != null) {
                r.sweep().rows().forEach(row -> System.out.println("sweep " + Sweep.describe(row)));
            }
            System.out.printf(Locale.ROOT, "chosen: %s, saving %.1f%% of large-only FLOPs; wrote %s (and %s/*.csv, *.json, "
                    + "*.png) in %.1f min%n", r.chosen().describe(), 100 * r.chosenQuality().flopsSaving(), r.planFile(),
                    out, minutes);
            if (json) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("plan_file", r.planFile().toAbsolutePath().toString());
                m.put("segments", r.chosen().segments());
                m.put("solver", r.chosen().sampling(e.evaluation.generator().generator().defaultSolver()).solver().name());
                m.put("steps", r.chosen().steps() != null ? r.chosen().steps() : e.evaluation.steps());
                m.put("flops_saving", r.chosenQuality().flopsSaving());
                Map<String, Object> quality = new LinkedHashMap<>();
                quality.put("chosen", r.chosenQuality());
                quality.put("large_only", r.largeOnly());
                PlanQuality validated = r.measured().get(r.chosenQuality().plan() + Calibrator.SUFFIX);
                if (validated != null) {
                    quality.put("chosen_validation", validated);
                    quality.put("large_only_validation", r.measured().get("LLL" + Calibrator.SUFFIX));
                }
                PlanQuality confirmed = r.measured().get(r.chosenQuality().plan() + Calibrator.CONFIRMATION_SUFFIX);
                if (confirmed != null) {
                    quality.put("chosen_confirmation", confirmed);
                    quality.put("large_only_confirmation", r.measured().get("LLL" + Calibrator.CONFIRMATION_SUFFIX));
                }
                m.put("quality", quality);
                m.put("divergence_by_phase", r.divergenceByPhase());
                m.put("minutes", minutes);
                System.out.println(Json.writeCompact(m));
            }
        }
        return 0;
    }
}
