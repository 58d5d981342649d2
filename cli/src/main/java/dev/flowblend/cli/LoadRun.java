package dev.flowblend.cli;

import dev.flowblend.proto.generation.GenerateEvent;
import dev.flowblend.proto.generation.GenerateRequest;
import dev.flowblend.proto.generation.GenerationServiceGrpc;
import io.grpc.Channel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.function.IntFunction;

/**
 * A bounded load, each generation under its own deadline so a run always ends by itself. Closed
 * loop ({@link #run}): {@code count} generations, at most {@code concurrency} at once, the next
 * starting when one ends. Open loop ({@link #runOpen}): each generation starts at its scheduled
 * arrival time whatever is in flight (up to a cap). Records for every generation what came back:
 * status, wall time, latency, the SHA-256 of the decoded frames (to compare runs bitwise) and
 * which worker served each step (from progress events).
 */
final class LoadRun {

    /**
     * What one generation did. {@code status} is "OK" or the gRPC code name of its failure.
     * {@code wallMs} runs from the call's start to its end; {@code latencyMs} from the generation's
     * origin: its scheduled arrival in an open loop (so a late start counts), its start in a closed
     * loop (there it equals {@code wallMs}). {@code originNanos} and {@code endNanos} are
     * {@link System#nanoTime} readings (the measuring window); {@code scheduledMs}, the arrival's
     * offset from the open-loop point's start, is null in a closed loop.
     */
    record Record(int index, String prompt, long seed, boolean accepted, String status, String description,
                  long startEpochMs, long endEpochMs, double wallMs, String framesSha256,
                  Map<String, Integer> stepsByWorker, long originNanos, long endNanos, double latencyMs,
                  Double scheduledMs, Map<String, Double> timingsMs) {
        boolean ok() {
            return status.equals("OK");
        }
    }

    /**
     * What an open-loop run did: the records of the arrivals that started (in index order), how
     * many arrivals came (before a stop), and the indices of those dropped because
     * {@code maxInFlight} generations were already running.
     */
    record Open(List<Record> records, int arrivals, List<Integer> dropped) {
    }

    /** How often an open loop waiting for its next arrival asks whether to stop. */
    static final long STOP_POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

    private final GenerationServiceGrpc.GenerationServiceBlockingStub stub;
    private final long deadlineMillis;

    LoadRun(Channel channel, long deadlineMillis) {
        if (deadlineMillis < 1) {
            throw new IllegalArgumentException("deadline is " + deadlineMillis + " ms; must be at least 1");
        }
        this.stub = GenerationServiceGrpc.newBlockingStub(channel);
        this.deadlineMillis = deadlineMillis;
    }

    /** Runs requests 0..count-1 (built by {@code request}) on {@code concurrency} threads; records in index order. */
    List<Record> run(int count, int concurrency, IntFunction<GenerateRequest> request) throws InterruptedException {
        return run(count, concurrency, request, () -> false);
    }

    /**
     * As {@link #run(int, int, IntFunction)}, but no generation starts once {@code stop} says true
     * (those running finish): the records are then those of requests 0..n-1, n &lt;= count.
     */
    List<Record> run(int count, int concurrency, IntFunction<GenerateRequest> request, BooleanSupplier stop)
            throws InterruptedException {
        if (count < 1 || concurrency < 1) {
            throw new IllegalArgumentException("count (" + count + ") and concurrency (" + concurrency
                    + ") must be at least 1");
        }
        Record[] out = new Record[count];
        AtomicInteger next = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(Math.min(concurrency, count));
        try {
            for (int t = 0; t < Math.min(concurrency, count); t++) {
                pool.execute(() -> {
                    // stop is asked before an index is taken, so the indices run are 0..n-1 with no gap
                    while (!stop.getAsBoolean()) {
                        int i = next.getAndIncrement();
                        if (i >= count) {
                            break;
                        }
                        out[i] = one(i, request.apply(i), null, null);
                    }
                });
            }
            pool.shutdown();
            // every call has a deadline, so the threads end; this bound only guards against a bug
            long bound = deadlineMillis * ((count + concurrency - 1) / concurrency + 1) + 60_000;
            if (!pool.awaitTermination(bound, TimeUnit.MILLISECONDS)) {
                throw new IllegalStateException("load did not finish within " + bound + " ms");
            }
        } finally {
            pool.shutdownNow();
        }
        int n = Math.min(next.get(), count);
        return Arrays.asList(Arrays.copyOf(out, n));
    }

    /**
     * Open loop: arrival i comes {@code arrivalNanos[i]} after the call (ascending) and starts
     * generation i then, whatever is in flight, unless {@code maxInFlight} are running: then it is
     * dropped (counted, never queued, never silently). Once {@code stop} says true (it is asked
     * before each arrival and every 100 ms while waiting), no more arrive; those running finish.
     * The request is built at the arrival time, on the arrival thread, so a slow builder (or a busy
     * client) shows up as lateness in the latency.
     */
    Open runOpen(long[] arrivalNanos, int maxInFlight, IntFunction<GenerateRequest> request, BooleanSupplier stop)
            throws InterruptedException {
        if (maxInFlight < 1) {
            throw new IllegalArgumentException("maxInFlight is " + maxInFlight + "; must be at least 1");
        }
        Record[] out = new Record[arrivalNanos.length];
        List<Integer> dropped = new ArrayList<>();
        Semaphore slots = new Semaphore(maxInFlight);
        AtomicInteger thread = new AtomicInteger();
        ExecutorService pool = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "load-" + thread.incrementAndGet());
            t.setDaemon(true);  // a bug that leaves one running must not keep the JVM alive
            return t;
        });
        int arrivals = 0;
        try {
            long t0 = System.nanoTime();
            arriving:
            for (int i = 0; i < arrivalNanos.length; i++) {
                long due = t0 + arrivalNanos[i];
                while (true) {  // stop is asked at least every STOP_POLL, so a slow rate still stops soon
                    if (stop.getAsBoolean()) {
                        break arriving;
                    }
                    long left = due - System.nanoTime();
                    if (left <= 0) {
                        break;
                    }
                    TimeUnit.NANOSECONDS.sleep(Math.min(left, STOP_POLL_NANOS));
                }
                arrivals++;
                if (!slots.tryAcquire()) {
                    dropped.add(i);
                    continue;
                }
                int index = i;
                GenerateRequest r = request.apply(i);
                Double scheduledMs = arrivalNanos[i] / 1e6;
                pool.execute(() -> {
                    try {
                        out[index] = one(index, r, due, scheduledMs);
                    } finally {
                        slots.release();
                    }
                });
            }
            pool.shutdown();
            // every call has a deadline, so the threads end; this bound only guards against a bug
            long bound = deadlineMillis + 60_000;
            if (!pool.awaitTermination(bound, TimeUnit.MILLISECONDS)) {
                throw new IllegalStateException("open-loop load did not finish within " + bound
                        + " ms of its last arrival");
            }
        } finally {
            pool.shutdownNow();
        }
        List<Record> records = new ArrayList<>();
        for (Record r : out) {
            if (r != null) {
                records.add(r);
            }
        }
        return new Open(records, arrivals, dropped);
    }

    /**
     * Runs one generation; {@code originNanos} is its scheduled arrival, null in a closed loop (its
     * origin is then its start). Whatever happens, a record comes back: an exception of the client
     * itself is recorded as UNKNOWN with its text, so no generation goes missing from a report.
     */
    private Record one(int index, GenerateRequest r, Long originNanos, Double scheduledMs) {
        long start = System.currentTimeMillis();
        long t0 = System.nanoTime();
        long origin = originNanos == null ? t0 : originNanos;
        Map<String, Integer> byWorker = new TreeMap<>();
        boolean accepted = false;
        String hash = null;
        Map<String, Double> timings = Map.of();
        Status status = Status.OK;
        try {
            Iterator<GenerateEvent> events = stub.withDeadlineAfter(deadlineMillis, TimeUnit.MILLISECONDS).generate(r);
            while (events.hasNext()) {
                GenerateEvent e = events.next();
                switch (e.getEventCase()) {
                    case ACCEPTED -> accepted = true;
                    case PROGRESS -> byWorker.merge(e.getProgress().getWorker(), 1, Integer::sum);
                    case RESULT -> {
                        hash = sha256(e.getResult().getFrames().toByteArray());
                        timings = timings(e.getResult().getMetadata().getTimings());
                    }
                    default -> { }
                }
            }
            if (hash == null) {
                status = Status.INTERNAL.withDescription("the stream ended without a result");
            }
        } catch (StatusRuntimeException e) {
            status = e.getStatus();
        } catch (RuntimeException e) {
            status = Status.UNKNOWN.withDescription("client: " + e);
        }
        long end = System.nanoTime();
        double wall = Math.round((end - t0) / 1e5) / 10.0;
        double latency = originNanos == null ? wall : Math.round((end - origin) / 1e5) / 10.0;
        return new Record(index, r.getPrompt(), r.getSeed(), accepted, status.getCode().name(),
                status.getDescription(), start, System.currentTimeMillis(), wall,
                status.isOk() ? hash : null, byWorker, origin, end, latency, scheduledMs, timings);
    }

    /** The orchestrator's own account of a generation's time (GenerationMetadata.timings), by phase. */
    static Map<String, Double> timings(dev.flowblend.proto.generation.Timings t) {
        Map<String, Double> m = new LinkedHashMap<>();
        m.put("total_ms", t.getTotalMs());
        m.put("encode_prompt_ms", t.getEncodePromptMs());
        m.put("sampling_ms", t.getSamplingMs());
        m.put("decode_ms", t.getDecodeMs());
        m.put("video_encode_ms", t.getVideoEncodeMs());
        return m;
    }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every JVM", e);
        }
    }

    /** The run's figures: counts, wall-time percentiles of completed generations, steps per worker, every record. */
    static Map<String, Object> summary(List<Record> records, double runSeconds) {
        List<Double> walls = new ArrayList<>();
        Map<String, Integer> byWorker = new TreeMap<>();
        Map<String, Integer> byStatus = new TreeMap<>();
        int accepted = 0;
        for (Record r : records) {
            byStatus.merge(r.status(), 1, Integer::sum);
            accepted += r.accepted() ? 1 : 0;
            if (r.ok()) {
                walls.add(r.wallMs());
            }
            r.stepsByWorker().forEach((w, n) -> byWorker.merge(w, n, Integer::sum));
        }
        walls.sort(null);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("generations", records.size());
        m.put("accepted", accepted);
        m.put("completed", walls.size());
        m.put("by_status", byStatus);
        m.put("run_s", Math.round(runSeconds * 100) / 100.0);
        m.put("p50_ms", percentile(walls, 50));
        m.put("p95_ms", percentile(walls, 95));
        m.put("max_ms", walls.isEmpty() ? null : walls.get(walls.size() - 1));
        m.put("steps_by_worker", byWorker);
        m.put("records", records.stream().map(LoadRun::recordMap).toList());
        return m;
    }

    static Map<String, Object> recordMap(Record r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("index", r.index());
        m.put("prompt", r.prompt());
        m.put("seed", r.seed());
        m.put("accepted", r.accepted());
        m.put("status", r.status());
        if (r.description() != null) {
            m.put("description", r.description());
        }
        m.put("start_epoch_ms", r.startEpochMs());
        m.put("end_epoch_ms", r.endEpochMs());
        m.put("wall_ms", r.wallMs());
        m.put("frames_sha256", r.framesSha256());
        m.put("steps_by_worker", r.stepsByWorker());
        if (r.scheduledMs() != null) {  // open loop only: a closed loop's records stay as they always were
            m.put("scheduled_ms", Math.round(r.scheduledMs() * 10) / 10.0);
            m.put("latency_ms", r.latencyMs());
        }
        return m;
    }

    /** Nearest-rank percentile of a sorted list; null when empty. */
    static Double percentile(List<Double> sorted, double p) {
        if (sorted.isEmpty()) {
            return null;
        }
        int rank = (int) Math.ceil(p / 100.0 * sorted.size());
        return sorted.get(Math.max(0, Math.min(sorted.size(), rank) - 1));
    }
}
