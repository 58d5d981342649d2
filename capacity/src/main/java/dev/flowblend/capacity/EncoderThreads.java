package dev.flowblend.capacity;

import java.util.ArrayDeque;

/**
 * Video encoding on the orchestrator's CPU: {@code threads} encodes at once (its cores), each
 * taking {@code encodeMs}; the rest wait in order. In the real orchestrator each generation
 * encodes on its own thread, so the bound is the cores, not a pool: this is that bound.
 * Single-threaded, driven by the {@link EventQueue}.
 */
final class EncoderThreads {
    private final int threads;
    private final double encodeMs;
    private final EventQueue clock;
    private final Recorder recorder;
    private final ArrayDeque<Runnable> waiting = new ArrayDeque<>();
    private int busy;

    EncoderThreads(int threads, double encodeMs, EventQueue clock, Recorder recorder) {
        this.threads = threads;
        this.encodeMs = encodeMs;
        this.clock = clock;
        this.recorder = recorder;
    }

    /** Encodes one video; {@code done} runs when it is encoded. */
    void encode(Runnable done) {
        if (busy < threads) {
            start(done);
        } else {
            waiting.add(done);
        }
    }

    private void start(Runnable done) {
        busy++;
        double start = clock.now();
        clock.after(encodeMs, () -> {
            recorder.encoded(start, clock.now());
            busy--;
            Runnable next = waiting.pollFirst();
            if (next != null) {
                start(next);
            }
            done.run();
        });
    }
}
