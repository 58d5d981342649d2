package dev.flowblend.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The demo's measuring options are checked before any process starts. */
class DemoCommandTest {
    @ParameterizedTest
    @ValueSource(strings = {"--runs=0", "--runs=1001", "--warmup=-1"})
    void badCounts_refusedNamingBothLimits(String option) {
        String[] r = CliRun.run("demo", option);
        assertEquals("2", r[0], r[2]);
        assertTrue(r[2].contains("need --warmup 0..1000 and --runs 1..1000"), r[2]);
        assertTrue(!r[1].contains("starting"), "no cluster started: " + r[1]);
    }
}
