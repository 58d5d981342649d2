package dev.flowblend.capacity;

import java.util.ArrayDeque;

/**
 * The orchestrator's admission (Admission.java, one caller): at most {@code maxConcurrent}
 * generations run; up to {@code maxQueued} more wait, first in first out; beyond that a request is
 * refused (RESOURCE_EXHAUSTED). A generation holds its slot until its video is encoded. Per-token
 * limits are not modelled (one caller). Single-threaded.
 */
final class AdmissionQueue<T> {
    interface Starter<T> {
        void start(T generation);
    }

    private final int maxConcurrent;
    private final int maxQueued;
    private final Starter<T> starter;
    private final ArrayDeque<T> waiting = new ArrayDeque<>();
    private int running;
    private int peakRunning;
    private int peakQueued;

    AdmissionQueue(int maxConcurrent, int maxQueued, Starter<T> starter) {
        this.maxConcurrent = maxConcurrent;
        this.maxQueued = maxQueued;
        this.starter = starter;
    }

    /** Starts or queues {@code g}; false: refused. */
    boolean admit(T g) {
        if (running < maxConcurrent) {
            running++;
            peakRunning = Math.max(peakRunning, running);
            starter.start(g);
            return true;
        }
        if (waiting.size() >= maxQueued) {
            return false;
        }
        waiting.add(g);
        peakQueued = Math.max(peakQueued, waiting.size());
        return true;
    }

    /** A generation ended: the longest-waiting one, if any, takes its slot. */
    void finished() {
        running--;
        T next = waiting.pollFirst();
        if (next != null) {
            running++;
            starter.start(next);
        }
    }

    int peakRunning() {
        return peakRunning;
    }

    int peakQueued() {
        return peakQueued;
    }
}
