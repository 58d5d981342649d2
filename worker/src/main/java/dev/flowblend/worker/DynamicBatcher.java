package dev.flowblend.worker;

import dev.flowblend.runtime.TensorSpec;
import dev.flowblend.telemetry.Event;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingDeque;
import java.util.concurrent.LinkedBlockingDeque;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Merges concurrent requests for one model into batches along dimension 0. Requests of different
 * generations and timesteps share a batch: every per-sample quantity, the timestep included, is
 * an input with a batch dimension. Only requests of the same per-sample shapes merge (a family
 * with several video sizes: one batch per size); a request of another size ends the batch and
 * starts the next, so the queue stays first in, first out.
 *
 * <p>One consumer thread runs the model; whenever it is free it takes everything queued, up to
 * max_batch_size samples, waiting up to max_queue_delay for more only when that delay is set. So
 * a lone request never waits, and under load batches form by themselves.
 *
 * <p>Thread-safety: {@link #submit} from any thread. Ownership: the worker server creates one per
 * hosted model and closes it after the gRPC server has stopped accepting calls; close drains
 * what is queued (accepted work is never dropped) and then stops the thread.
 */
final class DynamicBatcher implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(DynamicBatcher.class.getName());

    /** What runs a merged batch: the model, or a fake in tests. */
    interface Runner {
        /** {@code shapes}: each input's concrete shape, the merged batch first. */
        List<ByteBuffer> run(List<ByteBuffer> inputs, List<long[]> shapes) throws Exception;
    }

    /**
     * One request: its inputs (model input order, little-endian), their concrete shapes (batch
     * first; null: the model's declared shapes, all fixed), sample count and outcome sink.
     * {@code repeats} (null: each once) says how many times each input's bytes follow each other
     * in the batch: a guided request's latent, sent once, runs as both branches, and is copied
     * twice into the merged batch rather than doubled beforehand. {@code batch} and
     * {@code shapes} count the samples the model runs.
     */
    record Job(List<ByteBuffer> inputs, List<long[]> shapes, int batch, Cancellation cancellation, Callback callback,
               int[] repeats) {
        Job(List<ByteBuffer> inputs, List<long[]> shapes, int batch, Cancellation cancellation, Callback callback) {
            this(inputs, shapes, batch, cancellation, callback, null);
        }

        Job(List<ByteBuffer> inputs, int batch, Cancellation cancellation, Callback callback) {
            this(inputs, null, batch, cancellation, callback, null);
        }

        /** How many times input {@code i}'s bytes go into the batch. */
        int repeat(int i) {
            return repeats == null ? 1 : repeats[i];
        }

        /** What must agree for two jobs to share a batch: every input's shape after the batch dimension. */
        List<Long> sampleShapeKey() {
            if (shapes == null) {
                return List.of();
            }
            List<Long> k = new ArrayList<>();
            for (long[] s : shapes) {
                for (int d = 1; d < s.length; d++) {
                    k.add(s[d]);
                }
                k.add(-1L);
            }
            return k;
        }
    }

    /**
     * How a job was served: the size of the merged batch it ran in, how long it waited in the
     * queue, and how long the model ran on that batch (what the worker reports to its callers so
     * they can tell transport time from model time).
     */
    record Served(int batchSize, long queueNanos, long computeNanos) {
    }

    /** A job and when it was queued. */
    private record Queued(Job job, long at) {
    }

    /**
     * Hears every batch the model answered (its sample count and model time, the same nanos each
     * request's {@link Served#computeNanos} reports), on the batcher thread; must not block.
     */
    interface BatchObserver {
        void batchRan(int samples, long computeNanos);
    }

    interface Cancellation {
        /** Null while the caller still wants the result; otherwise why it does not. */
        InferException reason();
    }

    interface Callback {
        void completed(List<ByteBuffer> outputs, Served served);

        void failed(InferException error);
    }

    private final String model;
    private final List<TensorSpec> inputSpecs;
    private final List<TensorSpec> outputSpecs;
    private final Runner runner;
    private final WorkerConfig.Batching config;
    private final BlockingDeque<Queued> queue;
    private final ByteBuffer[] scratch;
    private final LongSupplier nanoTime;
    private final BatchObserver observer;
    private final Thread thread;
    private volatile boolean closed;

    DynamicBatcher(String model, List<TensorSpec> inputs, List<TensorSpec> outputs, Runner runner,
                   WorkerConfig.Batching config, ThreadFactory threads, LongSupplier nanoTime) {
        this(model, inputs, outputs, runner, config, threads, nanoTime, (samples, nanos) -> { });
    }

    DynamicBatcher(String model, List<TensorSpec> inputs, List<TensorSpec> outputs, Runner runner,
                   WorkerConfig.Batching config, ThreadFactory threads, LongSupplier nanoTime, BatchObserver observer) {
        this.model = model;
        this.observer = observer;
        this.inputSpecs = List.copyOf(inputs);
        this.outputSpecs = List.copyOf(outputs);
        this.runner = runner;
        this.config = config;
        this.queue = new LinkedBlockingDeque<>(config.maxQueueSize());
        this.nanoTime = nanoTime;
        // One direct buffer per input, reused for every batch (grown when a larger batch or size
        // needs it): ONNX Runtime reads direct buffers in place, so merging costs one copy per
        // request and no allocation once the largest batch has run.
        this.scratch = new ByteBuffer[inputs.size()];
        for (int i = 0; i < inputs.size(); i++) {
            if (inputs.get(i).fixed()) {
                scratch[i] = ByteBuffer.allocateDirect(Math.toIntExact(inputs.get(i).sampleBytes()
                        * config.maxBatchSize())).order(ByteOrder.nativeOrder());
            }
        }
        this.thread = threads.newThread(this::loop);
        thread.start();
    }

    /** Queues a job; throws RESOURCE_EXHAUSTED when the queue is full, UNAVAILABLE once closing. */
    void submit(Job job) throws InferException {
        if (job.batch() > config.maxBatchSize()) {
            throw InferException.invalid("batch of " + job.batch() + " samples exceeds max_batch_size "
                    + config.maxBatchSize() + " of model '" + model + "'");
        }
        if (closed) {
            throw new InferException(io.grpc.Status.Code.UNAVAILABLE, "worker is shutting down; retry on another worker");
        }
        if (!queue.offer(new Queued(job, nanoTime.getAsLong()))) {
            throw new InferException(io.grpc.Status.Code.RESOURCE_EXHAUSTED, "model '" + model + "' queue is full ("
                    + config.maxQueueSize() + " requests, batching.max_queue_size); retry later or on another worker");
        }
    }

    int queued() {
        return queue.size();
    }

    private void loop() {
        Queued carried = null;  // taken from the queue while waiting, but too large for that batch
        while (true) {
            Queued first = carried;
            carried = null;
            if (first == null) {
                try {
                    first = closed ? queue.poll() : queue.poll(50, TimeUnit.MILLISECONDS);
                } catch (InterruptedException e) {
                    first = queue.poll();
                }
            }
            if (first == null) {
                if (closed) {
                    return;
                }
                continue;
            }
            List<Queued> jobs = new ArrayList<>();
            carried = collect(first, jobs);
            runBatch(jobs);
        }
    }

    /** Fills {@code jobs} starting with {@code first}; returns a job taken but left for the next batch. */
    private Queued collect(Queued first, List<Queued> jobs) {
        jobs.add(first);
        int n = first.job().batch();
        List<Long> key = first.job().sampleShapeKey();
        long deadline = nanoTime.getAsLong() + TimeUnit.MICROSECONDS.toNanos(config.maxQueueDelayMicros());
        while (n < config.maxBatchSize()) {
            Queued next = queue.peekFirst();
            if (next != null) {
                if (n + next.job().batch() > config.maxBatchSize() || !next.job().sampleShapeKey().equals(key)) {
                    return null;
                }
                queue.pollFirst();
            } else {
                long wait = deadline - nanoTime.getAsLong();
                if (wait <= 0 || closed) {
                    return null;
                }
                try {
                    next = queue.pollFirst(wait, TimeUnit.NANOSECONDS);
                } catch (InterruptedException e) {
                    return null;
                }
                if (next == null) {
                    return null;
                }
                if (n + next.job().batch() > config.maxBatchSize() || !next.job().sampleShapeKey().equals(key)) {
                    return next;
                }
            }
            jobs.add(next);
            n += next.job().batch();
        }
        return null;
    }

    private void runBatch(List<Queued> jobs) {
        long start = nanoTime.getAsLong();
        List<Job> live = new ArrayList<>(jobs.size());
        long[] queued = new long[jobs.size()];
        for (Queued q : jobs) {
            InferException why = q.job().cancellation().reason();
            if (why == null) {
                queued[live.size()] = start - q.at();
                live.add(q.job());
            } else {
                deliver(q.job(), () -> q.job().callback().failed(why));
            }
        }
        if (live.isEmpty()) {
            return;
        }
        int total = 0;
        for (Job j : live) {
            total += j.batch();
        }
        List<ByteBuffer> merged = new ArrayList<>(inputSpecs.size());
        List<long[]> shapes = new ArrayList<>(inputSpecs.size());
        Job head = live.get(0);
        for (int i = 0; i < inputSpecs.size(); i++) {
            long[] shape = head.shapes() == null ? inputSpecs.get(i).withBatch(total) : head.shapes().get(i).clone();
            shape[0] = total;
            shapes.add(shape);
            int bytes = 0;
            for (Job j : live) {
                bytes += j.inputs().get(i).remaining() * j.repeat(i);
            }
            if (scratch[i] == null || scratch[i].capacity() < bytes) {
                scratch[i] = ByteBuffer.allocateDirect(bytes).order(ByteOrder.nativeOrder());
            }
            ByteBuffer s = scratch[i];
            s.clear();
            for (Job j : live) {
                for (int r = 0; r < j.repeat(i); r++) {
                    s.put(j.inputs().get(i).duplicate());
                }
            }
            s.flip();
            merged.add(s);
        }
        List<ByteBuffer> outputs;
        try {
            outputs = runner.run(merged, shapes);
        } catch (Exception | OutOfMemoryError e) {
            // One failed batch fails its requests, never the worker (e.g. an allocation failure).
            LOG.log(Level.SEVERE, Event.of("batch_failed").with("model", model).with("samples", total)
                    .with("requests", live.size()).toString(), e);
            InferException err = new InferException(io.grpc.Status.Code.INTERNAL, "model '" + model
                    + "' failed on a batch of " + total + ": " + e);
            live.forEach(j -> deliver(j, () -> j.callback().failed(err)));
            return;
        }
        long compute = nanoTime.getAsLong() - start;
        observer.batchRan(total, compute);
        int offset = 0;
        for (int n = 0; n < live.size(); n++) {
            Job j = live.get(n);
            List<ByteBuffer> mine = new ArrayList<>(outputs.size());
            for (int o = 0; o < outputs.size(); o++) {
                int bytes = outputs.get(o).remaining() / total;
                ByteBuffer slice = outputs.get(o).duplicate();
                slice.position(offset * bytes).limit((offset + j.batch()) * bytes);
                mine.add(slice.slice().order(ByteOrder.LITTLE_ENDIAN));
            }
            offset += j.batch();
            Served served = new Served(total, queued[n], compute);
            deliver(j, () -> j.callback().completed(mine, served));
        }
    }

    /**
     * Runs one job's callback. A callback that throws (e.g. writing to a call the client has
     * just cancelled) must cost neither the other jobs of the batch their answers nor the model
     * its batcher thread.
     */
    private void deliver(Job job, Runnable callback) {
        try {
            callback.run();
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, Event.of("callback_failed").with("model", model).with("samples", job.batch())
                    .toString(), e);
        }
    }

    /** Stops accepting, finishes everything queued, then stops the thread. */
    @Override
    public void close() {
        closed = true;
        try {
            thread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
