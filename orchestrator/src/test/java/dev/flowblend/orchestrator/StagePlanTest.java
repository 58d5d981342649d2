package dev.flowblend.orchestrator;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StagePlanTest {

    private static String[] expect(int steps, java.util.function.IntFunction<String> f) {
        return IntStream.range(0, steps).mapToObj(f).toArray(String[]::new);
    }

    @Test
    void resolve_flowblendingFiftySteps_largeSmallLargeAt20And40() {
        String[] pools = StagePlan.PRESETS.get("flowblending").resolve(50, SigmaSchedule.sigmas(50, 3.0));
        assertArrayEquals(expect(50, k -> k < 20 || k >= 40 ? "large" : "small"), pools);
    }

    @Test
    void resolve_flowblendingSevenSteps_boundariesRounded() {
        // round(0.4*7)=3, round(0.8*7)=6
        String[] pools = StagePlan.PRESETS.get("flowblending").resolve(7, SigmaSchedule.sigmas(7, 1.0));
        assertArrayEquals(new String[] {"large", "large", "large", "small", "small", "small", "large"}, pools);
    }

    @Test
    void resolve_sigmaBoundaryWan22_highNoiseExpertWhileSigmaAtLeastBoundary() {
        StagePlan plan = new StagePlan("wan22", StagePlan.Unit.SIGMA,
                List.of(new StagePlan.Segment("high", 0.875), new StagePlan.Segment("low", 0.0)));
        double[] sigmas = SigmaSchedule.sigmas(10, 1.0);  // 1.0, 0.9, 0.8, ...
        String[] pools = plan.resolve(10, sigmas);
        assertArrayEquals(expect(10, k -> k <= 1 ? "high" : "low"), pools);
    }

    @Test
    void constructor_segmentsNotReachingEnd_rejectedNamingCoverage() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> StagePlan.fractions("gap", "large", 0.4, "small", 0.8));
        assertTrue(e.getMessage().contains("cover the whole trajectory"), e.getMessage());
    }

    @Test
    void constructor_endsNotIncreasing_rejectedNamingSegment() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> StagePlan.fractions("back", "large", 0.6, "small", 0.4, "large", 1.0));
        assertTrue(e.getMessage().contains("segment 1"), e.getMessage());
    }

    @Test
    void constructor_sigmaPlanNotEndingAtZero_rejected() {
        assertThrows(IllegalArgumentException.class, () -> new StagePlan("s", StagePlan.Unit.SIGMA,
                List.of(new StagePlan.Segment("large", 0.5), new StagePlan.Segment("small", 0.1))));
    }

    @Test
    void load_planFile_roundTripsSegments(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("plan.json");
        Files.writeString(f, "{\"name\":\"lsl\",\"unit\":\"step_fraction\",\"segments\":[{\"pool\":\"large\",\"end\":0.3},"
                + "{\"pool\":\"small\",\"end\":0.9},{\"pool\":\"large\",\"end\":1.0}]}");
        StagePlan p = StagePlan.load(f);
        assertEquals("lsl", p.name());
        assertEquals(List.of("large", "small"), p.pools());
        assertEquals("large:0.3,small:0.9,large:1.0", p.describe());
    }

    @Test
    void load_unknownField_rejectedNamingIt(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("plan.json");
        Files.writeString(f, "{\"name\":\"x\",\"segments\":[{\"pool\":\"large\",\"end\":1.0}],\"segmentz\":1}");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> StagePlan.load(f));
        assertTrue(e.getMessage().contains("segmentz"), e.getMessage());
    }

    @Test
    void load_planFileWithSampling_keepsSolverStepsAndHistory(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("plan.json");
        Files.writeString(f, "{\"name\":\"fast\",\"segments\":[{\"pool\":\"large\",\"end\":0.4},"
                + "{\"pool\":\"large\",\"end\":1.0}],\"solver\":\"UniPC\",\"steps\":20,\"solver_history\":\"reset\"}");
        StagePlan p = StagePlan.load(f);
        assertEquals("unipc", p.solver());
        assertEquals(20, p.steps());
        assertEquals("reset", p.solverHistory());
        assertEquals("large:0.4,large:1.0 solver unipc steps 20 history reset", p.describe());
        Path back = dir.resolve("back.json");
        Files.writeString(back, dev.flowblend.runtime.Json.write(p));
        assertEquals(p, StagePlan.load(back));
    }

    @Test
    void load_badSampling_rejectedNamingTheField(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("plan.json");
        Files.writeString(f, "{\"name\":\"x\",\"segments\":[{\"pool\":\"large\",\"end\":1.0}],\"solver\":\"rk4\"}");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> StagePlan.load(f));
        assertTrue(e.getMessage().contains("plan 'x' solver is 'rk4'; must be one of [euler, dpm++2m, unipc]"),
                e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> StagePlan.fractions("y", "large", 1.0).sampledWith(null, 0, null));
        IllegalArgumentException h = assertThrows(IllegalArgumentException.class,
                () -> StagePlan.fractions("y", "large", 1.0).sampledWith(null, null, "keep"));
        assertEquals("plan 'y' solver_history is 'keep'; must be carry or reset", h.getMessage());
    }
}
