package dev.flowblend.orchestrator;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * The deadlines of the requests in flight on one worker stream, enforced by at most one armed
 * timer. Arming a timer per request and cancelling it on the answer cost a thread wake-up per
 * step: each new task became the head of the scheduler's queue (the previous one was cancelled and
 * removed) and woke its thread, for a deadline that almost never passes. Here a new deadline arms
 * the timer only when it is earlier than the armed one; requests sent later have later deadlines,
 * so in steady state a step arms nothing and an answer cancels nothing. The timer, when it fires,
 * expires what is due and re-arms for the earliest deadline left: one wake-up per timeout period
 * per stream instead of one per step, and no deadline is enforced late.
 *
 * <p>Thread-safe. Deadlines are {@code clock} readings in nanoseconds (compared by difference, as
 * {@link System#nanoTime()} requires); {@code expired} runs on the scheduler's thread.
 */
final class Deadlines<K> {
    /** Runs {@code task} after {@code delayNanos}; returns what cancels it. */
    interface Scheduler {
        Runnable schedule(Runnable task, long delayNanos);
    }

    private final Map<K, Long> due = new ConcurrentHashMap<>();
    private final Scheduler scheduler;
    private final LongSupplier clock;
    private final Consumer<K> expired;
    private Runnable cancelArmed;  // guarded by this; null: nothing armed
    private long armedAt;          // guarded by this

    Deadlines(Scheduler scheduler, LongSupplier clock, Consumer<K> expired) {
        this.scheduler = scheduler;
        this.clock = clock;
        this.expired = expired;
    }

    /** {@code key} expires {@code timeoutNanos} from now unless {@link #forget}-ed first. */
    void watch(K key, long timeoutNanos) {
        long at = clock.getAsLong() + timeoutNanos;
        due.put(key, at);
        arm(at);
    }

    /** {@code key} was answered (or failed otherwise): it will not expire. Arms and cancels nothing. */
    void forget(K key) {
        due.remove(key);
    }

    private synchronized void arm(long at) {
        if (cancelArmed != null && at - armedAt >= 0) {
            return;  // the armed timer fires first and re-arms for this one
        }
        if (cancelArmed != null) {
            cancelArmed.run();
        }
        armedAt = at;
        cancelArmed = scheduler.schedule(this::fire, Math.max(0, at - clock.getAsLong()));
    }

    private void fire() {
        synchronized (this) {
            cancelArmed = null;  // from here on a new deadline arms a timer of its own
        }
        long now = clock.getAsLong();
        long next = 0;
        boolean left = false;
        for (Map.Entry<K, Long> e : due.entrySet()) {
            long at = e.getValue();
            if (at - now <= 0) {
                if (due.remove(e.getKey(), at)) {
                    expired.accept(e.getKey());
                }
            } else if (!left || at - next < 0) {
                next = at;
                left = true;
            }
        }
        if (left) {
            arm(next);
        }
    }
}
