package dev.flowblend.calibration;

import dev.flowblend.orchestrator.StagePlan;
import dev.flowblend.orchestrator.solver.StepReuse;
import dev.flowblend.runtime.Json;
import dev.flowblend.runtime.ModelFamily;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One calibration run: divergence curve, the ablation plans, a divergence-guided search over
 * large-small-large boundaries, and the cheapest plan that meets the tolerances, written as a plan
 * file with CSV/JSON of every measurement and the charts. A candidate passes only if it meets the
 * tolerances on the calibration set and then again on a disjoint validation set; with a
 * confirmation set, the passing plans are confirmed cheapest first on a third disjoint set and the
 * first confirmed is chosen ({@link Selection}): picking the cheapest of many noisy pass/fail
 * measurements otherwise favours plans that passed by luck. Thread-compatible.
 */
public final class Calibrator {

    /**
     * What to run. Grids are step fractions; budget bounds the plans the search may generate.
     * {@code sweep} lists further sampling configurations (solver x steps) to search after the
     * family's own, each with at most {@code sweepBudget} FlowBlending plans (empty: none).
     * {@code reuseBudgets}, ascending, are step-reuse budgets tried on the cheapest plan found, each
     * kept while it still passes (and is confirmed) (empty: no reuse). {@code confirmationSamples}
     * videos (0: none) from seeds after the validation set's confirm the choice; at most
     * {@link #CONFIRMATIONS} passing plans are tried there, and a plan is confirmed only if it
     * meets the tolerances on at least {@code confirmationConfidence} of {@link #RESAMPLES}
     * bootstrap resamples of that set too (0: the point estimate alone decides).
     */
    public record Options(int samples, int validationSamples, int divergenceSamples, long seedOffset,
                          Tolerances tolerances, double[] earlyGrid, double[] lateGrid, int budget, Path outDir,
                          List<Sweep.Config> sweep, int sweepBudget, double[] reuseBudgets, int confirmationSamples,
                          double confirmationConfidence) {
        public Options(int samples, int validationSamples, int divergenceSamples, long seedOffset, Tolerances tolerances,
                       double[] earlyGrid, double[] lateGrid, int budget, Path outDir) {
            this(samples, validationSamples, divergenceSamples, seedOffset, tolerances, earlyGrid, lateGrid, budget,
                    outDir, List.of(), 0, new double[0], 0, 0);
        }

        public Options {
            sweep = List.copyOf(sweep);
            reuseBudgets = reuseBudgets.clone();
            for (int i = 0; i < reuseBudgets.length; i++) {
                if (!(reuseBudgets[i] > 0 && reuseBudgets[i] <= 1) || (i > 0 && reuseBudgets[i] <= reuseBudgets[i - 1])) {
                    throw new IllegalArgumentException("reuse budget " + reuseBudgets[i] + " (index " + i
                            + "); budgets must ascend strictly within (0, 1]");
                }
            }
            if (!sweep.isEmpty() && sweepBudget < 1) {
                throw new IllegalArgumentException("sweep budget is " + sweepBudget + "; must be >= 1");
            }
            if (samples < 2 || divergenceSamples < 1) {
                throw new IllegalArgumentException("samples must be >= 2 and divergence samples >= 1");
            }
            if (validationSamples != 0 && validationSamples < 2) {
                throw new IllegalArgumentException("validation samples is " + validationSamples
                        + "; must be 0 (no validation) or >= 2");
            }
            if (!(confirmationConfidence >= 0 && confirmationConfidence <= 1)) {
                throw new IllegalArgumentException("confirmation confidence is " + confirmationConfidence
                        + "; must be in [0, 1]");
            }
            if (confirmationSamples != 0 && confirmationSamples < 2) {
                throw new IllegalArgumentException("confirmation samples is " + confirmationSamples
                        + "; must be 0 (no confirmation) or >= 2");
            }
            if (budget < 1) {
                throw new IllegalArgumentException("search budget is " + budget + "; must be >= 1");
            }
        }
    }

    /** Passing plans confirmed at most, cheapest first, before the run gives up and keeps large-only. */
    public static final int CONFIRMATIONS = 24;

    /** Bootstrap resamples behind a confirmation's pass share. */
    public static final int RESAMPLES = 200;

    /** Everything a run produced. */
    public record Report(List<Divergence.Step> divergence, Map<String, PlanQuality> measured,
                         Map<String, List<String>> violations, StagePlan chosen, Path planFile, PlanQuality chosenQuality,
                         PlanQuality largeOnly, Map<String, Double> divergenceByPhase, Sweep.Result sweep) {
    }

    /** The ablation plans at the paper's 40/40/20 split. */
    public static Map<String, StagePlan> ablations() {
        Map<String, StagePlan> m = new LinkedHashMap<>();
        m.put("LLL", StagePlan.fractions("LLL", StagePlan.LARGE, 1.0));
        m.put("SSS", StagePlan.fractions("SSS", StagePlan.SMALL, 1.0));
        m.put("SLL", StagePlan.fractions("SLL", StagePlan.SMALL, 0.4, StagePlan.LARGE, 1.0));
        m.put("LSS", StagePlan.fractions("LSS", StagePlan.LARGE, 0.4, StagePlan.SMALL, 1.0));
        m.put("LSL", StagePlan.fractions("LSL", StagePlan.LARGE, 0.4, StagePlan.SMALL, 0.8, StagePlan.LARGE, 1.0));
        return m;
    }

    private final ModelFamily family;
    private final Evaluation evaluation;
    private final Options options;
    private final Runnable tick;
    private final java.util.function.Consumer<String> log;

    public Calibrator(ModelFamily family, Evaluation evaluation, Options options, Runnable tick,
                      java.util.function.Consumer<String> log) {
        this.family = family;
        this.evaluation = evaluation;
        this.options = options;
        this.tick = tick;
        this.log = log;
    }

    /** Progress units the run will tick at most (steps x chunks per generated plan, plus divergence). */
    public int maxTicks() {
        int chunk = evaluation.generator().chunk();
        int steps = evaluation.steps();
        int perPlan = steps * ((options.samples() + chunk - 1) / chunk);
        int div = steps * ((options.divergenceSamples() + chunk - 1) / chunk);
        int perValidation = steps * ((options.validationSamples() + chunk - 1) / chunk);
        int sweep = 0;
        for (Sweep.Config c : options.sweep()) {
            int plans = 2 + options.sweepBudget();
            sweep += plans * c.steps() * ((options.samples() + chunk - 1) / chunk + (options.validationSamples() + chunk - 1) / chunk);
        }
        int perConfirmation = steps * ((options.confirmationSamples() + chunk - 1) / chunk);
        int reuse = options.reuseBudgets().length * (perPlan + perValidation + perConfirmation);
        int confirm = options.confirmationSamples() == 0 ? 0 : perConfirmation * (1 + CONFIRMATIONS);
        return div + perPlan * (ablations().size() + options.budget()) + perValidation * (1 + options.budget()) + sweep
                + reuse + confirm;
    }

    public Report run() throws Exception {
        Files.createDirectories(options.outDir());
        int steps = evaluation.steps();
        List<PromptSet.Sample> samples = PromptSet.grammar(family, options.samples(), options.seedOffset());
        log.accept("velocity divergence over " + options.divergenceSamples() + " prompts x " + steps + " steps");
        List<Divergence.Step> div = Divergence.measure(evaluation.generator(),
                samples.subList(0, Math.min(options.divergenceSamples(), samples.size())), steps, evaluation.guidance(),
                StagePlan.LARGE, StagePlan.SMALL, tick);
        Map<String, PlanQuality> measured = new LinkedHashMap<>();
        Map<String, List<String>> violations = new LinkedHashMap<>();
        Map<String, Evaluation.Run> runs = new LinkedHashMap<>();
        Evaluation.Run reference = evaluation.run(ablations().get("LLL"), samples, tick);
        runs.put("LLL", reference);
        PlanQuality ref = evaluation.measure(reference, reference, samples);
        measured.put("LLL", ref);
        violations.put("LLL", List.of());
        for (Map.Entry<String, StagePlan> a : ablations().entrySet()) {
            if (!a.getKey().equals("LLL")) {
                measure(a.getValue(), samples, reference, ref, measured, violations, runs);
            }
        }
        double[] d = div.stream().mapToDouble(Divergence.Step::meanRelL2).toArray();
        // per-step velocity FLOPs of each model for a guided (batch-2) step
        double largeStep = 2.0 * family.byRole(ModelFamily.ROLE_VELOCITY_LARGE).flopsPerSample();
        double smallStep = 2.0 * family.byRole(ModelFamily.ROLE_VELOCITY_SMALL).flopsPerSample();
        List<Search.Candidate> cands = Search.grid(options.earlyGrid(), options.lateGrid(), steps,
                evaluation.generator().generator().sigmas(steps), d, largeStep, smallStep);
        log.accept(cands.size() + " candidate boundaries; generating at most " + options.budget());
        Validation validation = new Validation(PromptSet.grammar(family, options.validationSamples(),
                options.seedOffset() + options.samples()), SUFFIX, 0);
        Validation confirmation = new Validation(PromptSet.grammar(family, options.confirmationSamples(),
                options.seedOffset() + options.samples() + options.validationSamples()), CONFIRMATION_SUFFIX,
                options.confirmationConfidence());
        Selection selection = new Selection();
        Search.Judge judge = plan -> {
            PlanQuality q = measure(plan, samples, reference, ref, measured, violations, runs);
            boolean ok = violations.get(plan.name()).isEmpty();
            log.accept(String.format(java.util.Locale.ROOT, "%-12s saving %5.1f%%  %s", plan.name(),
                    100 * q.flopsSaving(), ok ? "passes" : "fails: " + violations.get(plan.name())));
            boolean passes = ok && validation.passes(plan, measured, violations);
            if (passes) {
                selection.passed(plan, flops(plan, largeStep, smallStep));
            }
            return passes;
        };
        Search.Judge confirm = options.confirmationSamples() == 0 ? null
                : plan -> confirmation.passes(plan, measured, violations);
        Search.Result result = Search.run(cands, judge, options.budget());
        Sweep.Result sweep = null;
        if (!options.sweep().isEmpty()) {
            log.accept("sweep over " + options.sweep().size() + " solver x steps configurations");
            sweep = Sweep.run(options.sweep(), new Sweep.Candidates() {
                @Override
                public List<Search.Candidate> at(int n) {
                    double[] sig = evaluation.generator().generator().sigmas(n);
                    return Search.grid(options.earlyGrid(), options.lateGrid(), n, sig, Sweep.divergenceAt(div, sig),
                            largeStep, smallStep);
                }

                @Override
                public double largeOnlyFlops(int n) {
                    return n * largeStep;
                }

                @Override
                public double flops(StagePlan plan) {
                    return Calibrator.this.flops(plan, largeStep, smallStep);
                }
            }, judge, options.sweepBudget());
        }
        Selection.Result selected = selection.choose(confirm, CONFIRMATIONS);
        if (confirm != null) {
            log.accept("confirmed on " + options.confirmationSamples() + " videos, cheapest first: "
                    + selected.confirmations());
        }
        StagePlan best = selected.chosen() == null ? null : selected.chosen().plan();
        double bestFlops = selected.chosen() == null ? steps * largeStep : selected.chosen().flops();
        if (options.reuseBudgets().length > 0) {
            StagePlan base = best != null ? best : ablations().get("LLL");
            StepReuse curve = Divergence.reuseCurve(div, StagePlan.LARGE, StagePlan.SMALL, 0);
            for (double b : options.reuseBudgets()) {
                StagePlan p = base.withReuse(curve.withBudget(b)).named(base.name() + "-reuse-" + b);
                double f = flops(p, largeStep, smallStep);
                if (f >= bestFlops) {
                    continue;  // this budget reuses nothing more on this plan
                }
                if (!judge.passes(p) || (confirm != null && !confirm.passes(p))) {
                    break;  // a larger budget reuses more and errs more
                }
                best = p;
                bestFlops = f;
            }
        }
        StagePlan chosen = best == null ? ablations().get("LLL") : best.named("calibrated");
        PlanQuality chosenQ = best == null ? ref : measured.get(best.name());
        Path planFile = options.outDir().resolve("plan.json");
        Files.writeString(planFile, Json.write(chosen) + "\n");
        Map<String, Double> phases = phases(div);
        Report report = new Report(div, measured, violations, chosen, planFile, chosenQ, ref, phases, sweep);
        Outputs.write(report, runs, options, family, result);
        return report;
    }

    /** A disjoint seed set a plan must pass again, its large-only reference generated on first use. */
    private final class Validation {
        private final List<PromptSet.Sample> samples;
        private final String suffix;
        private final double confidence;
        private Evaluation.Run reference;
        private PlanQuality referenceQuality;

        Validation(List<PromptSet.Sample> samples, String suffix, double confidence) {
            this.samples = samples;
            this.suffix = suffix;
            this.confidence = confidence;
        }

        boolean passes(StagePlan plan, Map<String, PlanQuality> measured, Map<String, List<String>> violations)
                throws Exception {
            if (samples.isEmpty()) {
                return true;
            }
            if (reference == null) {
                reference = evaluation.run(ablations().get("LLL"), samples, tick);
                referenceQuality = evaluation.measure(reference, reference, samples);
                measured.put("LLL" + suffix, referenceQuality.named("LLL" + suffix));
                violations.put("LLL" + suffix, List.of());
            }
            Evaluation.Run run = evaluation.run(plan, samples, tick);
            PlanQuality q = evaluation.measure(run, reference, samples);
            List<String> v = new ArrayList<>(options.tolerances().violations(q, referenceQuality));
            if (v.isEmpty() && confidence > 0) {
                // the same resamples for every plan (one seed): plans are compared on equal footing
                double share = evaluation.passShare(run, reference, samples, options.tolerances(), RESAMPLES,
                        options.seedOffset());
                if (share < confidence) {
                    v.add(String.format(java.util.Locale.ROOT, "passes %.0f%% of %d bootstrap resamples < %.0f%%",
                            100 * share, RESAMPLES, 100 * confidence));
                }
            }
            measured.put(plan.name() + suffix, q.named(plan.name() + suffix));
            violations.put(plan.name() + suffix, v);
            log.accept(String.format(java.util.Locale.ROOT, "%-12s on %d %s videos: %s", plan.name(),
                    samples.size(), suffix.substring(1), v.isEmpty() ? "passes" : "fails: " + v));
            return v.isEmpty();
        }
    }

    /** Suffix of the validation-set measurements' names in the report ("LLL@validation", ...). */
    public static final String SUFFIX = "@validation";

    /** Suffix of the confirmation-set measurements' names ("LLL@confirmation", ...). */
    public static final String CONFIRMATION_SUFFIX = "@confirmation";

    private PlanQuality measure(StagePlan plan, List<PromptSet.Sample> samples, Evaluation.Run reference,
                                PlanQuality ref, Map<String, PlanQuality> measured, Map<String, List<String>> violations,
                                Map<String, Evaluation.Run> runs) throws Exception {
        Evaluation.Run run = evaluation.run(plan, samples, tick);
        PlanQuality q = evaluation.measure(run, reference, samples);
        measured.put(plan.name(), q);
        violations.put(plan.name(), options.tolerances().violations(q, ref));
        // keep only the first videos of each plan for the frame grid
        runs.put(plan.name(), new Evaluation.Run(plan, new BatchGenerator.Videos(run.videos().video(0), 1,
                run.videos().frameShape(), 0, 0, 0), List.of(), List.of()));
        return q;
    }

    /** Guided velocity FLOPs of one generation of {@code plan}, reused steps costing nothing. */
    private double flops(StagePlan plan, double largeStep, double smallStep) {
        int n = evaluation.steps(plan);
        double[] sig = evaluation.generator().generator().sigmas(n);
        String[] pools = plan.resolve(n, sig);
        boolean[] reused = plan.reuse() == null ? new boolean[n] : plan.reuse().schedule(pools, sig);
        double f = 0;
        for (int k = 0; k < n; k++) {
            f += reused[k] ? 0 : pools[k].equals(StagePlan.LARGE) ? largeStep : smallStep;
        }
        return f;
    }


    /** Mean divergence over the first 20%, the middle 40% (30-70%) and the last 20% of steps. */
    static Map<String, Double> phases(List<Divergence.Step> div) {
        int n = div.size();
        Map<String, Double> m = new LinkedHashMap<>();
        m.put("early", mean(div, 0, (int) Math.round(0.2 * n)));
        m.put("middle", mean(div, (int) Math.round(0.3 * n), (int) Math.round(0.7 * n)));
        m.put("late", mean(div, (int) Math.round(0.8 * n), n));
        return m;
    }

    private static double mean(List<Divergence.Step> div, int from, int to) {
        double s = 0;
        for (int i = from; i < to; i++) {
            s += div.get(i).meanRelL2();
        }
        return s / Math.max(1, to - from);
    }

    static List<Integer> boundaries(StagePlan plan, int steps) {
        List<Integer> b = new ArrayList<>();
        for (int i = 0; i < plan.segments().size() - 1; i++) {
            b.add((int) Math.round(plan.segments().get(i).end() * steps));
        }
        return b;
    }
}
