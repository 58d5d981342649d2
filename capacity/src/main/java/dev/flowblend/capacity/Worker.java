package dev.flowblend.capacity;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One worker process and its device. Each hosted model has its own FIFO queue, as each has its
 * own batcher thread in the worker (DynamicBatcher); the models share one device that runs one
 * batch at a time, whichever model it is (a GPU runs one kernel stream; the demo's CPU workers
 * run with one intra-op thread). When the device is free it serves the model whose oldest
 * request has waited longest among those ready (a model is ready once its queue holds
 * max_batch_size samples or its oldest request has waited max_queue_delay_ms; with no delay, at
 * once) and takes that model's queue in order up to max_batch_size samples, as DynamicBatcher
 * does: requests of different generations and steps share a batch. A batch of s samples takes
 * fixed_ms + per_sample_ms * s, times the device's {@link Jitter} factor then. Single-threaded, driven by the {@link EventQueue}.
 */
final class Worker {
    /** One model call: {@code samples} of {@code model}; {@code done} runs when its answer is back. */
    static final class Call {
        final String model;
        final int samples;
        final boolean measured;
        final Runnable done;
        double queuedAt;

        Call(String model, int samples, boolean measured, Runnable done) {
            this.model = model;
            this.samples = samples;
            this.measured = measured;
            this.done = done;
        }
    }

    private final String pool;
    private final EventQueue clock;
    private final Recorder recorder;
    private final Map<String, ModelCosts> models;
    private final Map<String, ArrayDeque<Call>> queues = new LinkedHashMap<>();
    private final Map<String, int[]> queuedSamples = new LinkedHashMap<>();
    private int inflight;
    private boolean busy;
    private double wakeAt = -1;

    private final Jitter jitter;

    Worker(String pool, Map<String, ModelCosts> models, EventQueue clock, Recorder recorder, Jitter jitter) {
        this.pool = pool;
        this.jitter = jitter;
        this.models = models;
        this.clock = clock;
        this.recorder = recorder;
        models.keySet().forEach(m -> {
            queues.put(m, new ArrayDeque<>());
            queuedSamples.put(m, new int[1]);
        });
    }

    /** Calls sent here and not yet answered: what the orchestrator's least-loaded pick compares. */
    int inflight() {
        return inflight;
    }

    void submit(Call c) {
        inflight++;
        c.queuedAt = clock.now();
        queues.get(c.model).add(c);
        queuedSamples.get(c.model)[0] += c.samples;
        tryStart();
    }

    private void tryStart() {
        if (busy) {
            return;
        }
        double now = clock.now();
        String pick = null;
        double oldest = Double.POSITIVE_INFINITY;
        double nextReady = Double.POSITIVE_INFINITY;
        for (Map.Entry<String, ArrayDeque<Call>> e : queues.entrySet()) {
            Call head = e.getValue().peekFirst();
            if (head == null) {
                continue;
            }
            ModelCosts m = models.get(e.getKey());
            boolean full = queuedSamples.get(e.getKey())[0] >= m.maxBatchSize();
            double readyAt = full ? head.queuedAt : head.queuedAt + m.maxQueueDelayMs();
            if (readyAt <= now) {
                if (head.queuedAt < oldest) {
                    oldest = head.queuedAt;
                    pick = e.getKey();
                }
            } else {
                nextReady = Math.min(nextReady, readyAt);
            }
        }
        if (pick == null) {
            // a stale wake-up only calls this method again, which is harmless
            if (nextReady < Double.POSITIVE_INFINITY && !(wakeAt > now && wakeAt <= nextReady)) {
                wakeAt = nextReady;
                clock.at(nextReady, this::tryStart);
            }
            return;
        }
        run(pick, now);
    }

    private void run(String model, double start) {
        ModelCosts m = models.get(model);
        ArrayDeque<Call> q = queues.get(model);
        List<Call> batch = new ArrayList<>();
        int samples = 0;
        while (!q.isEmpty() && samples + q.peekFirst().samples <= m.maxBatchSize()) {
            Call c = q.pollFirst();
            samples += c.samples;
            batch.add(c);
            recorder.queued(pool, c.measured, start - c.queuedAt);
        }
        queuedSamples.get(model)[0] -= samples;
        busy = true;
        double end = start + m.batchMs(samples) * jitter.factor(start);
        int n = samples;
        clock.at(end, () -> finish(model, batch, n, start, end));
    }

    /**
     * The device is free at once and starts its next batch before the answers are handled: the
     * batcher thread loops while the replies travel back, so a reply's next step (sent later)
     * never joins the batch that starts now.
     */
    private void finish(String model, List<Call> batch, int samples, double start, double end) {
        busy = false;
        inflight -= batch.size();
        recorder.batch(pool, model, start, end, samples, batch.size());
        tryStart();
        for (Call c : batch) {
            c.done.run();
        }
    }
}
