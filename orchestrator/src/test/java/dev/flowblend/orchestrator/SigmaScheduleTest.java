package dev.flowblend.orchestrator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class SigmaScheduleTest {

    @Test
    void sigmas_shiftOne_linearFromOneToZero() {
        double[] s = SigmaSchedule.sigmas(4, 1.0);
        assertEquals(5, s.length);
        assertEquals(1.0, s[0], 0);
        assertEquals(0.75, s[1], 1e-15);
        assertEquals(0.5, s[2], 1e-15);
        assertEquals(0.0, s[4], 0);
    }

    @Test
    void sigmas_shiftThree_matchesFormula() {
        // base 0.5 -> 3*0.5 / (1 + 2*0.5) = 0.75; base 0.75 -> 2.25 / 2.5 = 0.9
        double[] s = SigmaSchedule.sigmas(4, 3.0);
        assertEquals(0.9, s[1], 1e-15);
        assertEquals(0.75, s[2], 1e-15);
        assertEquals(1.0, s[0], 1e-15);
        assertEquals(0.0, s[4], 0);
    }

    @Test
    void sigmas_zeroSteps_rejected() {
        assertThrows(IllegalArgumentException.class, () -> SigmaSchedule.sigmas(0, 1.0));
    }
}
