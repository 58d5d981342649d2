package dev.flowblend.calibration;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flowblend.orchestrator.SigmaSchedule;
import dev.flowblend.orchestrator.StagePlan;
import dev.flowblend.orchestrator.solver.DpmSolver2M;
import dev.flowblend.orchestrator.solver.EulerSolver;
import dev.flowblend.orchestrator.solver.HistoryAtSwitch;
import dev.flowblend.orchestrator.solver.UniPc2;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The solver x steps sweep on a synthetic judge: what it generates, and what it chooses. */
class SweepTest {
    private static final double LARGE = 10.0;
    private static final double SMALL = 1.0;
    private static final double[] EARLY = {0.2, 0.4};
    private static final double[] LATE = {0.6, 0.8};

    private static final Sweep.Candidates CANDIDATES = new Sweep.Candidates() {
        @Override
        public List<Search.Candidate> at(int steps) {
            double[] flat = new double[steps];
            java.util.Arrays.fill(flat, 0.5);
            return Search.grid(EARLY, LATE, steps, SigmaSchedule.sigmas(steps, 1.0), flat, LARGE, SMALL);
        }

        @Override
        public double largeOnlyFlops(int steps) {
            return steps * LARGE;
        }

        @Override
        public double flops(StagePlan plan) {
            String[] pools = plan.resolve(plan.steps(), SigmaSchedule.sigmas(plan.steps(), 1.0));
            return java.util.Arrays.stream(pools).mapToDouble(p -> p.equals(StagePlan.LARGE) ? LARGE : SMALL).sum();
        }
    };

    @Test
    void cheapestPassingPlanOverAllConfigurationsWins() throws Exception {
        List<String> judged = new ArrayList<>();
        // large-only passes from 10 steps with unipc, from 20 with euler; FlowBlending only with small to 0.6
        Search.Judge judge = plan -> {
            judged.add(plan.name());
            int need = plan.solver().equals("unipc") ? 10 : 20;
            boolean lll = plan.segments().size() == 1;
            boolean mildSmall = lll || plan.segments().stream().noneMatch(s -> s.pool().equals("small") && s.end() > 0.6);
            return plan.steps() >= need && mildSmall;
        };
        List<Sweep.Config> configs = Sweep.grid(List.of(EulerSolver.INSTANCE, UniPc2.INSTANCE), new int[] {20, 5, 10},
                HistoryAtSwitch.CARRY);
        assertEquals(List.of("euler-5", "euler-10", "euler-20", "unipc-5", "unipc-10", "unipc-20"),
                configs.stream().map(Sweep.Config::name).toList());
        Sweep.Result r = Sweep.run(configs, CANDIDATES, judge, 4);
        assertEquals(6, r.rows().size());
        assertFalse(r.rows().get(0).largeOnlyPasses());
        assertNull(r.rows().get(0).search(), "no boundary search where large-only already fails");
        // at 10 steps, LSL(0.2, 0.6): 6 large + 4 small steps
        assertEquals("unipc-10-lsl-20-60", r.chosen().name());
        assertEquals(6 * LARGE + 4 * SMALL, r.chosenFlops(), 1e-9);
        assertEquals("unipc", r.chosen().solver());
        assertEquals(10, r.chosen().steps());
        assertEquals("carry", r.chosen().solverHistory());
        assertTrue(judged.contains("euler-20-lll"));
        assertTrue(judged.contains("euler-5-flowblending"), "the 40/40/20 point of every configuration is measured");
        assertFalse(r.rows().get(2).flowblendingPasses(), "small to 0.8 fails this judge");
    }

    @Test
    void noPassingConfigurationChoosesNothing() throws Exception {
        Sweep.Result r = Sweep.run(Sweep.grid(List.of(DpmSolver2M.INSTANCE), new int[] {8}, HistoryAtSwitch.RESET),
                CANDIDATES, plan -> false, 3);
        assertNull(r.chosen());
        assertEquals("dpm++2m-8-reset", r.rows().get(0).config().name());
    }

    @Test
    void divergenceIsReadAtTheOtherScheduleBySigma() {
        List<Divergence.Step> curve = List.of(new Divergence.Step(0, 1.0, 0.2, 0, 0, 0),
                new Divergence.Step(1, 0.5, 0.6, 0, 0, 0), new Divergence.Step(2, 0.1, 1.0, 0, 0, 0));
        double[] at = Sweep.divergenceAt(curve, new double[] {1.0, 0.75, 0.3, 0.05, 0.0});
        assertArrayEquals(new double[] {0.2, 0.4, 0.8, 1.0}, at, 1e-12);
    }

    @Test
    void configApplyKeepsSegmentsAndNamesBoth() {
        StagePlan p = new Sweep.Config(UniPc2.INSTANCE, 12, HistoryAtSwitch.RESET)
                .apply(StagePlan.fractions("x", StagePlan.LARGE, 0.5, StagePlan.SMALL, 1.0), "lss");
        assertEquals("unipc-12-reset-lss", p.name());
        assertEquals("large:0.5,small:1.0 solver unipc steps 12 history reset", p.describe());
    }

    @Test
    void reuseCurveIsEachModelsChangePerUnitSigma() {
        List<Divergence.Step> steps = List.of(new Divergence.Step(0, 1.0, 0, 0, 0, 0, 0, 0),
                new Divergence.Step(1, 0.8, 0, 0, 0, 0, 0.02, 0.04), new Divergence.Step(2, 0.4, 0, 0, 0, 0, 0.02, 0.2));
        dev.flowblend.orchestrator.solver.StepReuse r = Divergence.reuseCurve(steps, "large", "small", 0.1);
        assertArrayEquals(new double[] {0.8, 0.4}, r.sigma(), 0);
        assertArrayEquals(new double[] {0.1, 0.05}, r.changePerSigma().get("large"), 1e-12);
        assertArrayEquals(new double[] {0.2, 0.5}, r.changePerSigma().get("small"), 1e-12);
        assertEquals(0.1, r.budget(), 0);
    }
}
