package dev.flowblend.capacity;

import java.util.PriorityQueue;

/**
 * The simulation clock: actions at simulated times (milliseconds), run in time order and, at
 * equal times, in the order they were scheduled, so a run is a pure function of its inputs.
 * Single-threaded.
 */
final class EventQueue {
    private record Event(double time, long seq, Runnable action) implements Comparable<Event> {
        @Override
        public int compareTo(Event o) {
            int c = Double.compare(time, o.time);
            return c != 0 ? c : Long.compare(seq, o.seq);
        }
    }

    private final PriorityQueue<Event> queue = new PriorityQueue<>();
    private double now;
    private long seq;
    private long ran;

    double now() {
        return now;
    }

    /** Runs {@code action} at {@code time} (never before now). */
    void at(double time, Runnable action) {
        queue.add(new Event(Math.max(time, now), seq++, action));
    }

    void after(double delayMs, Runnable action) {
        at(now + delayMs, action);
    }

    /** Runs the next action unless none is left or it lies after {@code endMs}; false then. */
    boolean runNext(double endMs) {
        Event e = queue.peek();
        if (e == null || e.time > endMs) {
            return false;
        }
        queue.poll();
        now = e.time;
        ran++;
        e.action.run();
        return true;
    }

    long eventsRun() {
        return ran;
    }
}
