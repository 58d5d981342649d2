package dev.flowblend.orchestrator;

import dev.flowblend.security.Principal;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;

/**
 * Which generations run and which wait: at most {@code maxConcurrent} run and {@code maxQueued}
 * wait in all, and a caller with limits of its own ({@link Principal#maxRunning()},
 * {@link Principal#maxQueued()}; 0 = none of its own) runs and holds no more than those. Waiting
 * generations start in arrival order, passing over a caller already at its running limit, so one
 * token's burst cannot hold every slot while another token waits.
 *
 * <p>Plain Java. Thread-safe (one lock; nothing slow runs under it). A started generation runs on
 * {@code executor}, which must be able to run {@code maxConcurrent} tasks at once (its own queue
 * then never holds more than the hand-offs this class makes).
 */
final class Admission {
    /** Why a generation was not admitted, in words for the client. */
    static final class Refused extends Exception {
        private static final long serialVersionUID = 1L;

        Refused(String message) {
            super(message, null, false, false);
        }
    }

    private record Waiting(Principal caller, Runnable task) {
    }

    /** A caller's generations now: running and waiting. */
    private static final class Counts {
        int running;
        int queued;
    }

    private final Executor executor;
    private final int maxConcurrent;
    private final int maxQueued;
    private final ArrayDeque<Waiting> waiting = new ArrayDeque<>();
    private final Map<String, Counts> callers = new HashMap<>();
    private int running;

    Admission(Executor executor, int maxConcurrent, int maxQueued) {
        this.executor = executor;
        this.maxConcurrent = maxConcurrent;
        this.maxQueued = maxQueued;
    }

    /**
     * Starts {@code task} now or queues it.
     *
     * @return how many admitted generations wait ahead of it (0: it starts now)
     * @throws Refused when it would pass the orchestrator's or the caller's limits
     */
    int admit(Principal caller, Runnable task) throws Refused {
        Runnable start;
        int ahead;
        synchronized (this) {
            Counts c = callers.computeIfAbsent(caller.name(), k -> new Counts());
            boolean callerMayRun = caller.maxRunning() == 0 || c.running < caller.maxRunning();
            // nothing waiting could start now (each finish starts what it can), so one that can, starts
            if (callerMayRun && running < maxConcurrent) {
                running++;
                c.running++;
                start = wrap(caller, task);
                ahead = 0;
            } else {
                if (waiting.size() >= maxQueued) {
                    forgetIfIdle(caller.name(), c);
                    throw new Refused("orchestrator is at capacity (" + maxConcurrent + " running, " + maxQueued
                            + " queued: limits.max_concurrent_generations / max_queued_generations); retry later");
                }
                if (caller.maxQueued() > 0 && c.queued >= caller.maxQueued()) {
                    throw new Refused("token '" + caller.name() + "' has " + c.running + " generations running and "
                            + c.queued + " queued, its limit (max_running " + caller.maxRunning() + ", max_queued "
                            + caller.maxQueued() + "); retry when one finishes");
                }
                ahead = waiting.size();
                waiting.add(new Waiting(caller, task));
                c.queued++;
                start = null;
            }
        }
        if (start != null) {
            submit(start);
        }
        return ahead;
    }

    /** Generations running now. */
    synchronized int running() {
        return running;
    }

    /** Generations admitted and waiting for a slot (or for their caller's running limit). */
    synchronized int queued() {
        return waiting.size();
    }

    private Runnable wrap(Principal caller, Runnable task) {
        return () -> {
            try {
                task.run();
            } finally {
                finished(caller);
            }
        };
    }

    private void finished(Principal caller) {
        java.util.List<Runnable> starts = new java.util.ArrayList<>();
        synchronized (this) {
            running--;
            Counts c = callers.get(caller.name());
            c.running--;
            forgetIfIdle(caller.name(), c);
            for (Iterator<Waiting> it = waiting.iterator(); it.hasNext() && running < maxConcurrent; ) {
                Waiting w = it.next();
                Counts wc = callers.get(w.caller().name());
                if (w.caller().maxRunning() == 0 || wc.running < w.caller().maxRunning()) {
                    it.remove();
                    wc.queued--;
                    wc.running++;
                    running++;
                    starts.add(wrap(w.caller(), w.task()));
                }
            }
        }
        starts.forEach(this::submit);
    }

    private void forgetIfIdle(String name, Counts c) {
        if (c.running == 0 && c.queued == 0) {
            callers.remove(name);
        }
    }

    /**
     * Hands a started generation to the executor. It refuses only once shut down, after the
     * server stopped and its calls ended; a task it refuses then runs here, so its call still
     * ends with a status (the task sees its cancelled context) and is never dropped unanswered.
     */
    private void submit(Runnable start) {
        try {
            executor.execute(start);
        } catch (RejectedExecutionException e) {
            start.run();
        }
    }
}
