package dev.flowblend.calibration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flowblend.orchestrator.SigmaSchedule;
import dev.flowblend.orchestrator.StagePlan;
import java.util.Comparator;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Plan selection on synthetic divergence curves. */
class SearchTest {
    private static final int STEPS = 50;
    private static final double[] SIGMAS = SigmaSchedule.sigmas(STEPS, 1.0);  // uniform dt = 0.02
    private static final double[] EARLY = {0.1, 0.2, 0.3, 0.4, 0.5, 0.6};
    private static final double[] LATE = {0.5, 0.6, 0.7, 0.8, 0.9, 1.0};

    /** U-shaped: high at both ends, 0.05 in the middle third. */
    private static double[] uShape() {
        double[] d = new double[STEPS];
        for (int k = 0; k < STEPS; k++) {
            double x = (k - 24.5) / 24.5;
            d[k] = 0.05 + x * x * x * x;
        }
        return d;
    }

    private static List<Search.Candidate> grid(double[] d) {
        return Search.grid(EARLY, LATE, STEPS, SIGMAS, d, 10.0, 1.0);
    }

    @Test
    void grid_lslFortyEighty_flopsAndCostFromCurve() {
        double[] flat = new double[STEPS];
        java.util.Arrays.fill(flat, 0.5);
        Search.Candidate c = grid(flat).stream().filter(x -> x.early() == 0.4 && x.late() == 0.8).findFirst().orElseThrow();
        assertEquals(30 * 10.0 + 20 * 1.0, c.flops(), 1e-9);
        assertEquals(20 * 0.02 * 0.5, c.divergenceCost(), 1e-9);
        assertEquals(List.of("large", "small", "large"), c.plan().segments().stream().map(StagePlan.Segment::pool).toList());
        Search.Candidate lss = grid(flat).stream().filter(x -> x.early() == 0.4 && x.late() == 1.0).findFirst().orElseThrow();
        assertEquals(2, lss.plan().segments().size());
    }

    @Test
    void grid_earlyZero_smallFromStartThenLargeAndNoSmallOnly() {
        double[] flat = new double[STEPS];
        java.util.Arrays.fill(flat, 0.5);
        List<Search.Candidate> cands = Search.grid(new double[] {0.0}, new double[] {0.5, 1.0}, STEPS, SIGMAS, flat,
                10.0, 1.0);
        assertEquals(1, cands.size());
        Search.Candidate sl = cands.get(0);
        assertEquals(List.of("small", "large"), sl.plan().segments().stream().map(StagePlan.Segment::pool).toList());
        assertEquals(25 * 10.0 + 25 * 1.0, sl.flops(), 1e-9);
        assertEquals(25 * 0.02 * 0.5, sl.divergenceCost(), 1e-9);
    }

    @Test
    void run_monotoneJudge_choosesCheapestPassingWithFewGenerations() throws Exception {
        List<Search.Candidate> cands = grid(uShape());
        double threshold = 0.04;
        Search.Result r = Search.run(cands, p -> cost(cands, p) <= threshold, 20);
        Search.Candidate best = cands.stream().filter(c -> c.divergenceCost() <= threshold)
                .min(Comparator.comparingDouble(Search.Candidate::flops)).orElseThrow();
        assertEquals(best.flops(), r.chosen().flops(), 1e-9);
        assertTrue(r.evaluated().size() <= 8, "generated " + r.evaluated().size() + " of " + cands.size() + " candidates");
    }

    @Test
    void run_cheapestPredictedFailsVerification_triesNextCheapest() throws Exception {
        List<Search.Candidate> cands = grid(uShape());
        Search.Candidate cheapest = cands.stream().filter(c -> c.divergenceCost() <= 0.04)
                .min(Comparator.comparingDouble(Search.Candidate::flops)).orElseThrow();
        // the proxy is wrong about exactly one plan: the judge rejects the cheapest predicted pass
        Search.Result r = Search.run(cands, p -> cost(cands, p) <= 0.04 && !p.equals(cheapest.plan()), 20);
        assertTrue(r.chosen().flops() >= cheapest.flops());
        assertTrue(!r.chosen().plan().equals(cheapest.plan()));
        assertTrue(r.evaluated().contains(cheapest));
    }

    @Test
    void run_nothingPasses_noChoice() throws Exception {
        Search.Result r = Search.run(grid(uShape()), p -> false, 10);
        assertNull(r.chosen());
        assertTrue(r.passed().stream().noneMatch(b -> b));
    }

    private static double cost(List<Search.Candidate> cands, StagePlan p) {
        return cands.stream().filter(c -> c.plan().equals(p)).findFirst().orElseThrow().divergenceCost();
    }
}
