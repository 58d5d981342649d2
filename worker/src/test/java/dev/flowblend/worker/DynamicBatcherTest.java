package dev.flowblend.worker;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flowblend.runtime.DType;
import dev.flowblend.runtime.TensorSpec;
import dev.flowblend.runtime.Tensors;
import io.grpc.Status;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class DynamicBatcherTest {
    private static final TensorSpec IN = new TensorSpec("x", DType.FP32, new long[] {-1, 2});
    private static final TensorSpec OUT = new TensorSpec("y", DType.FP32, new long[] {-1, 2});

    private final List<Long> batchSizes = Collections.synchronizedList(new ArrayList<>());
    private final CountDownLatch release = new CountDownLatch(1);
    private final CountDownLatch firstRunning = new CountDownLatch(1);
    private DynamicBatcher batcher;

    /** Doubles its input; the first batch blocks until {@code release} so others queue behind it. */
    private final DynamicBatcher.Runner doubler = (inputs, shapes) -> {
        long batch = shapes.get(0)[0];
        batchSizes.add(batch);
        if (batchSizes.size() == 1) {
            firstRunning.countDown();
            release.await(10, TimeUnit.SECONDS);
        }
        float[] a = Tensors.floats(inputs.get(0).duplicate().order(ByteOrder.nativeOrder()));
        for (int i = 0; i < a.length; i++) {
            a[i] *= 2;
        }
        return List.of(ByteBuffer.wrap(Tensors.bytes(a)).order(ByteOrder.LITTLE_ENDIAN));
    };

    private DynamicBatcher start(DynamicBatcher.Runner runner, int maxBatch, int maxQueue) {
        batcher = new DynamicBatcher("m", List.of(IN), List.of(OUT), runner,
                new WorkerConfig.Batching(maxBatch, 0, maxQueue), Thread::new, System::nanoTime);
        return batcher;
    }

    @AfterEach
    void close() {
        release.countDown();
        if (batcher != null) {
            batcher.close();
        }
    }

    private static final class Sink implements DynamicBatcher.Callback {
        final CompletableFuture<float[]> values = new CompletableFuture<>();
        volatile int batchSize;
        volatile DynamicBatcher.Served served;

        @Override
        public void completed(List<ByteBuffer> outputs, DynamicBatcher.Served s) {
            batchSize = s.batchSize();
            served = s;
            values.complete(Tensors.floats(outputs.get(0)));
        }

        @Override
        public void failed(InferException error) {
            values.completeExceptionally(error);
        }
    }

    private static DynamicBatcher.Job job(Sink sink, float... values) {
        ByteBuffer b = ByteBuffer.wrap(Tensors.bytes(values)).order(ByteOrder.LITTLE_ENDIAN);
        return new DynamicBatcher.Job(List.of(b), values.length / 2, () -> null, sink);
    }

    @Test
    void submit_repeatedInput_runsItsBytesTwiceInPlace_besideOtherRequests() throws Exception {
        start(doubler, 8, 16);
        Sink first = new Sink();
        batcher.submit(job(first, 1, 1));
        assertTrue(firstRunning.await(10, TimeUnit.SECONDS));
        Sink twice = new Sink();
        Sink plain = new Sink();
        ByteBuffer once = ByteBuffer.wrap(Tensors.bytes(new float[] {1, 2})).order(ByteOrder.LITTLE_ENDIAN);
        // one sample sent, run as two (a guided request's latent): batch 2, the bytes twice
        batcher.submit(new DynamicBatcher.Job(List.of(once), null, 2, () -> null, twice, new int[] {2}));
        batcher.submit(job(plain, 5, 6));
        release.countDown();
        assertArrayEquals(new float[] {2, 4, 2, 4}, twice.values.get(10, TimeUnit.SECONDS));
        assertArrayEquals(new float[] {10, 12}, plain.values.get(10, TimeUnit.SECONDS));
        assertEquals(List.of(1L, 3L), batchSizes);
        assertEquals(0, once.position(), "the request's buffer is not consumed");
    }

    @Test
    void submit_requestsQueuedWhileBusy_mergedIntoOneBatchAndSplitBack() throws Exception {
        start(doubler, 8, 16);
        Sink first = new Sink();
        batcher.submit(job(first, 1, 1));
        assertTrue(firstRunning.await(10, TimeUnit.SECONDS));
        Sink a = new Sink();
        Sink b = new Sink();
        batcher.submit(job(a, 1, 2, 3, 4));  // 2 samples
        batcher.submit(job(b, 5, 6));        // 1 sample
        release.countDown();
        assertArrayEquals(new float[] {2, 4, 6, 8}, a.values.get(10, TimeUnit.SECONDS));
        assertArrayEquals(new float[] {10, 12}, b.values.get(10, TimeUnit.SECONDS));
        assertEquals(List.of(1L, 3L), batchSizes);
        assertEquals(3, a.batchSize);
    }

    @Test
    void completed_injectedClock_reportsThatJobsQueueAndModelTime() throws Exception {
        AtomicLong clock = new AtomicLong();
        DynamicBatcher.Runner slow = (inputs, shapes) -> {
            List<ByteBuffer> out = doubler.run(inputs, shapes);
            clock.addAndGet(300);  // every model run takes 300 ns of the injected clock
            return out;
        };
        batcher = new DynamicBatcher("m", List.of(IN), List.of(OUT), slow, new WorkerConfig.Batching(8, 0, 16),
                Thread::new, clock::get);
        Sink first = new Sink();
        batcher.submit(job(first, 1, 1));  // queued at 0, runs at once, blocks until release
        assertTrue(firstRunning.await(10, TimeUnit.SECONDS));
        clock.set(1000);
        Sink second = new Sink();
        batcher.submit(job(second, 2, 2));  // queued at 1000
        clock.set(5000);
        release.countDown();  // first ends at 5300; second starts then and runs for 300
        second.values.get(10, TimeUnit.SECONDS);
        assertEquals(new DynamicBatcher.Served(1, 0, 5300), first.served);
        assertEquals(new DynamicBatcher.Served(1, 4300, 300), second.served);
    }

    @Test
    void submit_batchWouldExceedMax_restWaitsForNextBatch() throws Exception {
        start(doubler, 3, 16);
        Sink first = new Sink();
        batcher.submit(job(first, 0, 0));
        assertTrue(firstRunning.await(10, TimeUnit.SECONDS));
        Sink a = new Sink();
        Sink b = new Sink();
        batcher.submit(job(a, 1, 1, 1, 1));  // 2
        batcher.submit(job(b, 1, 1, 1, 1));  // 2: 4 > 3, next batch
        release.countDown();
        b.values.get(10, TimeUnit.SECONDS);
        assertEquals(List.of(1L, 2L, 2L), batchSizes);
    }

    @Test
    void submit_queueFull_resourceExhaustedNamingTheLimit() throws Exception {
        start(doubler, 8, 1);
        batcher.submit(job(new Sink(), 0, 0));
        assertTrue(firstRunning.await(10, TimeUnit.SECONDS));
        batcher.submit(job(new Sink(), 0, 0));
        InferException e = assertThrows(InferException.class, () -> batcher.submit(job(new Sink(), 0, 0)));
        assertEquals(Status.Code.RESOURCE_EXHAUSTED, e.code());
        assertTrue(e.getMessage().contains("max_queue_size"), e.getMessage());
    }

    @Test
    void submit_cancelledWhileQueued_failsWithItsReasonAndIsNotRun() throws Exception {
        start(doubler, 8, 16);
        batcher.submit(job(new Sink(), 0, 0));
        assertTrue(firstRunning.await(10, TimeUnit.SECONDS));
        Sink gone = new Sink();
        batcher.submit(new DynamicBatcher.Job(List.of(ByteBuffer.wrap(Tensors.bytes(new float[2]))), 1,
                () -> new InferException(Status.Code.CANCELLED, "cancelled by the client while queued"), gone));
        Sink live = new Sink();
        batcher.submit(job(live, 3, 3));
        release.countDown();
        live.values.get(10, TimeUnit.SECONDS);
        Exception e = assertThrows(Exception.class, () -> gone.values.get(10, TimeUnit.SECONDS));
        assertEquals(Status.Code.CANCELLED, ((InferException) e.getCause()).code());
        assertEquals(List.of(1L, 1L), batchSizes);
    }

    @Test
    void run_runnerThrows_failsThatBatchWithInternalAndKeepsServing() throws Exception {
        List<Integer> calls = new ArrayList<>();
        start((inputs, n) -> {
            calls.add(1);
            if (calls.size() == 1) {
                throw new OutOfMemoryError("simulated allocation failure");
            }
            return doubler.run(inputs, n);
        }, 8, 16);
        release.countDown();
        Sink bad = new Sink();
        batcher.submit(job(bad, 1, 1));
        Exception e = assertThrows(Exception.class, () -> bad.values.get(10, TimeUnit.SECONDS));
        InferException ie = (InferException) e.getCause();
        assertEquals(Status.Code.INTERNAL, ie.code());
        assertTrue(ie.getMessage().contains("simulated allocation failure"), ie.getMessage());
        Sink good = new Sink();
        batcher.submit(job(good, 2, 2));
        assertArrayEquals(new float[] {4, 4}, good.values.get(10, TimeUnit.SECONDS));
    }

    @Test
    void run_oneCallbackThrows_othersInTheBatchAnsweredAndBatcherKeepsServing() throws Exception {
        start(doubler, 8, 16);
        batcher.submit(job(new Sink(), 0, 0));
        assertTrue(firstRunning.await(10, TimeUnit.SECONDS));
        DynamicBatcher.Callback throwing = new DynamicBatcher.Callback() {
            @Override
            public void completed(List<ByteBuffer> outputs, DynamicBatcher.Served served) {
                throw new IllegalStateException("call already cancelled");
            }

            @Override
            public void failed(InferException error) {
                throw new IllegalStateException("call already cancelled");
            }
        };
        batcher.submit(new DynamicBatcher.Job(List.of(ByteBuffer.wrap(Tensors.bytes(new float[2]))), 1, () -> null,
                throwing));
        Sink sameBatch = new Sink();
        batcher.submit(job(sameBatch, 1, 2));
        release.countDown();
        assertArrayEquals(new float[] {2, 4}, sameBatch.values.get(10, TimeUnit.SECONDS));
        assertEquals(2, sameBatch.batchSize, "merged with the job whose callback threw");
        Sink later = new Sink();
        batcher.submit(job(later, 3, 3));
        assertArrayEquals(new float[] {6, 6}, later.values.get(10, TimeUnit.SECONDS));
    }

    @Test
    void close_jobsStillQueued_allCompletedBeforeStopping() throws Exception {
        start(doubler, 1, 16);
        batcher.submit(job(new Sink(), 0, 0));
        assertTrue(firstRunning.await(10, TimeUnit.SECONDS));
        List<Sink> sinks = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            Sink s = new Sink();
            sinks.add(s);
            batcher.submit(job(s, i, i));
        }
        release.countDown();
        batcher.close();
        for (int i = 0; i < 5; i++) {
            assertArrayEquals(new float[] {2 * i, 2 * i}, sinks.get(i).values.getNow(null));
        }
        InferException e = assertThrows(InferException.class, () -> batcher.submit(job(new Sink(), 1, 1)));
        assertEquals(Status.Code.UNAVAILABLE, e.code());
    }
}
