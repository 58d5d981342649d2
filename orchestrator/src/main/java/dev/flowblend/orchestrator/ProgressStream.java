package dev.flowblend.orchestrator;

import dev.flowblend.proto.generation.GenerateEvent;
import dev.flowblend.proto.generation.Progress;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * Turns finished steps into Progress events and sends them in bursts: the first step at once,
 * then whatever has finished whenever {@code interval} has passed since the last burst, and the
 * rest on {@link #flush}. Every step is reported, in order; only the timing of the messages
 * changes. Why: a step of a small model takes milliseconds, and a message per step wakes the
 * orchestrator's client-facing transport and the client itself each time, CPU that the workers'
 * hosts and the orchestrator need for the next step; a progress bar needs a few updates a second.
 * An interval of 0 sends every step as it finishes.
 *
 * <p>Not thread-safe: the sampler calls {@link #onStep} one step at a time, each call
 * happening-before the next, and the generation calls {@link #flush} after sampling returned.
 */
final class ProgressStream implements Sampler.StepListener {
    private final Consumer<GenerateEvent> sink;
    private final long intervalNanos;
    private final LongSupplier nanoTime;
    private final List<Progress> pending = new ArrayList<>();
    private long lastSent;
    private boolean sentAny;

    ProgressStream(Consumer<GenerateEvent> sink, long intervalMillis, LongSupplier nanoTime) {
        if (intervalMillis < 0) {
            throw new IllegalArgumentException("progress interval is " + intervalMillis + " ms; must be >= 0");
        }
        this.sink = sink;
        this.intervalNanos = intervalMillis * 1_000_000L;
        this.nanoTime = nanoTime;
    }

    @Override
    public void onStep(Sampler.Step s) {
        Progress.Builder p = Progress.newBuilder().setStep(s.index()).setSteps(s.steps()).setSigma(s.sigma())
                .setPool(s.pool()).setWorker(s.worker()).setMillis(s.millis()).setWorkerQueueMillis(s.queueMillis())
                .setWorkerComputeMillis(s.computeMillis()).setPlannedPool(s.plannedPool()).setReused(s.reused());
        if (s.fallbackReason() != null) {
            p.setFallbackReason(s.fallbackReason());
        }
        pending.add(p.build());
        long now = nanoTime.getAsLong();
        if (!sentAny || now - lastSent >= intervalNanos) {
            send(now);
        }
    }

    /** Sends every step not sent yet (before the result, or before an error ends the stream). */
    void flush() {
        if (!pending.isEmpty()) {
            send(nanoTime.getAsLong());
        }
    }

    private void send(long now) {
        for (Progress p : pending) {
            sink.accept(GenerateEvent.newBuilder().setProgress(p).build());
        }
        pending.clear();
        lastSent = now;
        sentAny = true;
    }
}
