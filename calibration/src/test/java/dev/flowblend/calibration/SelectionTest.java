package dev.flowblend.calibration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.flowblend.orchestrator.StagePlan;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The final choice: cheapest first, confirmed on a further set, bounded. */
class SelectionTest {
    private static StagePlan plan(String name) {
        return StagePlan.fractions(name, StagePlan.LARGE, 1.0);
    }

    private static Selection noted() {
        Selection s = new Selection();
        s.passed(plan("b"), 30);
        s.passed(plan("a"), 10);
        s.passed(plan("c"), 20);
        s.passed(plan("a"), 5);  // a second record of the same plan keeps the first
        return s;
    }

    @Test
    void withoutConfirmationTheCheapestWins() throws Exception {
        Selection.Result r = noted().choose(null, 1);
        assertEquals("a", r.chosen().plan().name());
        assertEquals(10, r.chosen().flops());
        assertEquals(Map.of(), r.confirmations());
    }

    @Test
    void confirmsCheapestFirstAndStopsAtTheFirstConfirmed() throws Exception {
        List<String> asked = new ArrayList<>();
        Selection.Result r = noted().choose(p -> {
            asked.add(p.name());
            return !p.name().equals("a");
        }, 8);
        assertEquals("c", r.chosen().plan().name());
        assertEquals(List.of("a", "c"), asked);
        assertEquals(List.of("a", "c"), List.copyOf(r.confirmations().keySet()));
        assertEquals(List.of(false, true), List.copyOf(r.confirmations().values()));
    }

    @Test
    void theLimitBoundsConfirmations() throws Exception {
        List<String> asked = new ArrayList<>();
        Selection.Result r = noted().choose(p -> {
            asked.add(p.name());
            return p.name().equals("b");
        }, 2);
        assertNull(r.chosen());
        assertEquals(List.of("a", "c"), asked);
    }

    @Test
    void nothingPassedNothingChosen() throws Exception {
        assertNull(new Selection().choose(p -> true, 3).chosen());
        assertThrows(IllegalArgumentException.class, () -> noted().choose(null, 0));
    }
}
