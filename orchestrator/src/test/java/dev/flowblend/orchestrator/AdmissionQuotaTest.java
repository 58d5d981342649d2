package dev.flowblend.orchestrator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.flowblend.security.Principal;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Admission's global and per-caller limits, with an executor that only records what it was handed. */
class AdmissionQuotaTest {
    private final List<Runnable> started = new ArrayList<>();
    private final List<String> order = new ArrayList<>();
    private final Principal a = new Principal("team-a", 1, 2);
    private final Principal b = new Principal("team-b", 0, 0);

    private Runnable task(String name) {
        return () -> order.add(name);
    }

    /** Runs the oldest started generation to its end (which starts whatever may start next). */
    private void finishOldest() {
        started.remove(0).run();
    }

    @Test
    void admit_callerAtItsRunningLimit_waitsWhileAnotherCallerTakesAFreeSlot() throws Exception {
        Admission adm = new Admission(started::add, 3, 4);
        assertEquals(0, adm.admit(a, task("a1")));
        assertEquals(0, adm.admit(a, task("a2")));  // position 0 among those waiting: nothing ahead of it
        assertEquals(1, adm.admit(a, task("a3")));
        assertEquals(0, adm.admit(b, task("b1")));  // slots are free and team-b has no limit of its own
        assertEquals(2, started.size());
        assertEquals(2, adm.running());
        assertEquals(2, adm.queued());
        finishOldest();  // a1 ends: a2 starts
        assertEquals(List.of("a1"), order);
        assertEquals(2, started.size());
        assertEquals(1, adm.queued());
        finishOldest();  // b1 ends: a3 still waits for a2
        assertEquals(1, adm.queued());
        finishOldest();  // a2 ends: a3 starts
        finishOldest();
        assertEquals(List.of("a1", "b1", "a2", "a3"), order);
        assertEquals(0, adm.running());
        assertEquals(0, adm.queued());
    }

    @Test
    void admit_pastTheCallersQueuedLimit_refusedNamingTheTokenAndItsLimits() throws Exception {
        Admission adm = new Admission(started::add, 4, 16);
        adm.admit(a, task("a1"));
        adm.admit(a, task("a2"));
        adm.admit(a, task("a3"));
        Admission.Refused e = assertThrows(Admission.Refused.class, () -> adm.admit(a, task("a4")));
        assertEquals("token 'team-a' has 1 generations running and 2 queued, its limit (max_running 1, max_queued 2);"
                + " retry when one finishes", e.getMessage());
        assertEquals(0, adm.admit(b, task("b1")), "another token is not held back by team-a's limit");
    }

    @Test
    void admit_pastTheOrchestratorsQueue_refusedNamingTheLimits() throws Exception {
        Admission adm = new Admission(started::add, 1, 1);
        adm.admit(b, task("b1"));
        assertEquals(0, adm.admit(b, task("b2")));
        Admission.Refused e = assertThrows(Admission.Refused.class, () -> adm.admit(Principal.ANONYMOUS, task("x")));
        assertEquals("orchestrator is at capacity (1 running, 1 queued: limits.max_concurrent_generations /"
                + " max_queued_generations); retry later", e.getMessage());
        finishOldest();
        finishOldest();
        assertEquals(List.of("b1", "b2"), order);
    }

    @Test
    void finish_executorShutDown_startedGenerationRunsOnTheFinishingThreadNotDropped() throws Exception {
        List<Runnable> accepted = new ArrayList<>();
        boolean[] shut = {false};
        Admission adm = new Admission(r -> {
            if (shut[0]) {
                throw new java.util.concurrent.RejectedExecutionException("shut down");
            }
            accepted.add(r);
        }, 1, 1);
        adm.admit(b, task("b1"));
        adm.admit(b, task("b2"));
        shut[0] = true;
        accepted.remove(0).run();  // b1 ends; b2 cannot be handed to the executor, so it runs here
        assertEquals(List.of("b1", "b2"), order);
        assertEquals(0, adm.running());
    }
}
