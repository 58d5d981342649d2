package dev.flowblend.orchestrator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class DeadlinesTest {
    private final AtomicLong clock = new AtomicLong(1_000);
    private final List<Timer> armed = new ArrayList<>();
    private final List<String> expired = new ArrayList<>();
    private final Deadlines<String> deadlines = new Deadlines<>((task, delay) -> {
        Timer t = new Timer(task, clock.get() + delay);
        armed.add(t);
        return () -> t.cancelled = true;
    }, clock::get, expired::add);

    private static final class Timer {
        final Runnable task;
        final long at;
        boolean cancelled;

        Timer(Runnable task, long at) {
            this.task = task;
            this.at = at;
        }
    }

    /** Moves the clock to {@code t} and runs the timers due by then, as a scheduler thread would. */
    private void advanceTo(long t) {
        clock.set(t);
        for (int i = 0; i < armed.size(); i++) {
            Timer timer = armed.get(i);
            if (!timer.cancelled && timer.at <= t && timer.task != null) {
                Runnable task = timer.task;
                armed.set(i, new Timer(null, timer.at));  // ran
                task.run();
            }
        }
    }

    @Test
    void watch_laterDeadlinesAnsweredInTime_armOneTimerAndExpireNothing() {
        for (int step = 0; step < 50; step++) {
            clock.addAndGet(10);
            deadlines.watch("s" + step, 100);
            clock.addAndGet(5);
            deadlines.forget("s" + step);
        }
        assertEquals(1, armed.size(), "only the first request armed a timer");
        advanceTo(10_000);
        assertEquals(List.of(), expired);
        assertEquals(1, armed.size(), "nothing left to re-arm for");
    }

    @Test
    void fire_someDue_expiresOnlyThoseAndRearmsForTheEarliestLeft() {
        deadlines.watch("a", 100);  // due at 1100
        clock.set(1_050);
        deadlines.watch("b", 100);  // due at 1150
        deadlines.watch("c", 300);  // due at 1350
        advanceTo(1_100);
        assertEquals(List.of("a"), expired);
        assertEquals(1_150, armed.get(armed.size() - 1).at);
        deadlines.forget("b");
        advanceTo(1_150);
        assertEquals(List.of("a"), expired, "b was answered");
        assertEquals(1_350, armed.get(armed.size() - 1).at);
        advanceTo(1_400);
        assertEquals(List.of("a", "c"), expired);
    }

    @Test
    void watch_earlierThanArmed_rearmsAndCancelsTheLaterTimer() {
        deadlines.watch("slow", 1_000);
        deadlines.watch("fast", 10);
        assertEquals(2, armed.size());
        assertTrue(armed.get(0).cancelled);
        advanceTo(1_010);
        assertEquals(List.of("fast"), expired);
        advanceTo(2_000);
        assertEquals(List.of("fast", "slow"), expired);
    }

    @Test
    void watch_zeroTimeout_expiresAtTheNextTimerRun() {
        deadlines.watch("now", 0);
        assertEquals(clock.get(), armed.get(0).at);
        advanceTo(clock.get());
        assertEquals(List.of("now"), expired);
    }
}
