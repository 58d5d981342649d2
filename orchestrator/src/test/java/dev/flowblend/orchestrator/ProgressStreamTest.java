package dev.flowblend.orchestrator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.flowblend.proto.generation.GenerateEvent;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class ProgressStreamTest {
    private static final long MS = 1_000_000L;
    private final AtomicLong clock = new AtomicLong();
    private final List<Integer> sent = new ArrayList<>();

    private ProgressStream stream(long intervalMillis) {
        return new ProgressStream(e -> sent.add(e.getProgress().getStep()), intervalMillis, clock::get);
    }

    private static Sampler.Step step(int k) {
        return new Sampler.Step(k, 10, 1.0 - k / 10.0, "small", "small-0", 2.5, 0.1, 2.0);
    }

    @Test
    void onStep_stepsFasterThanInterval_firstAtOnceThenOneBurstPerInterval() {
        ProgressStream p = stream(100);
        for (int k = 0; k < 10; k++) {
            clock.set(k * 30 * MS);  // a step every 30 ms: bursts at 0, 120 (steps 1-4), 240 (5-8)
            p.onStep(step(k));
            if (k == 0) {
                assertEquals(List.of(0), sent);
            }
            if (k == 3) {
                assertEquals(List.of(0), sent, "steps 1-3 wait for the interval");
            }
            if (k == 4) {
                assertEquals(List.of(0, 1, 2, 3, 4), sent);
            }
        }
        assertEquals(List.of(0, 1, 2, 3, 4, 5, 6, 7, 8), sent);
        p.flush();
        assertEquals(List.of(0, 1, 2, 3, 4, 5, 6, 7, 8, 9), sent);
        p.flush();
        assertEquals(10, sent.size(), "a second flush sends nothing twice");
    }

    @Test
    void onStep_intervalZero_everyStepAsItFinishes() {
        ProgressStream p = stream(0);
        for (int k = 0; k < 3; k++) {
            p.onStep(step(k));
            assertEquals(k + 1, sent.size());
        }
    }

    @Test
    void onStep_eventCarriesTheStepsFields() {
        List<GenerateEvent> events = new ArrayList<>();
        new ProgressStream(events::add, 0, clock::get).onStep(step(3));
        var e = events.get(0).getProgress();
        assertEquals(3, e.getStep());
        assertEquals(10, e.getSteps());
        assertEquals(0.7, e.getSigma(), 1e-12);
        assertEquals("small-0", e.getWorker());
        assertEquals(2.5, e.getMillis());
        assertEquals(0.1, e.getWorkerQueueMillis());
        assertEquals(2.0, e.getWorkerComputeMillis());
    }

    @Test
    void constructor_negativeInterval_rejectedNamingTheValue() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> stream(-1));
        assertEquals("progress interval is -1 ms; must be >= 0", e.getMessage());
    }
}
