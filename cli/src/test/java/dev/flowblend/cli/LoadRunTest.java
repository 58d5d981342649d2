package dev.flowblend.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.flowblend.proto.generation.Accepted;
import dev.flowblend.proto.generation.GenerateEvent;
import dev.flowblend.proto.generation.GenerateRequest;
import dev.flowblend.proto.generation.GenerationServiceGrpc;
import dev.flowblend.proto.generation.Progress;
import dev.flowblend.proto.generation.Result;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.StreamObserver;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class LoadRunTest {

    /** Seed 3 is refused, seed 4 never answers; others: 3 steps (2 on w-a, 1 on w-b) and frames = "frames-SEED". */
    static final class FakeService extends GenerationServiceGrpc.GenerationServiceImplBase {
        final AtomicInteger inFlight = new AtomicInteger();
        final AtomicInteger maxInFlight = new AtomicInteger();

        @Override
        public void generate(GenerateRequest r, StreamObserver<GenerateEvent> out) {
            if (r.getSeed() == 3) {
                out.onError(Status.UNAVAILABLE.withDescription("no small worker").asRuntimeException());
                return;
            }
            if (r.getSeed() == 4) {
                return;  // the client's deadline ends it
            }
            maxInFlight.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
            out.onNext(GenerateEvent.newBuilder().setAccepted(Accepted.newBuilder().setSteps(3)).build());
            for (String w : List.of("w-a", "w-b", "w-a")) {
                out.onNext(GenerateEvent.newBuilder().setProgress(Progress.newBuilder().setWorker(w)).build());
            }
            try {
                Thread.sleep(20);  // keep generations overlapping so the concurrency bound is exercised
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            inFlight.decrementAndGet();
            out.onNext(GenerateEvent.newBuilder().setResult(Result.newBuilder()
                    .setFrames(ByteString.copyFromUtf8("frames-" + r.getSeed()))).build());
            out.onCompleted();
        }
    }

    @Test
    void run_mixedOutcomes_recordsEachInOrderWithHashesStepsAndStatus() throws Exception {
        FakeService service = new FakeService();
        String name = InProcessServerBuilder.generateName();
        Server server = InProcessServerBuilder.forName(name).addService(service).executor(
                java.util.concurrent.Executors.newCachedThreadPool()).build().start();
        ManagedChannel ch = InProcessChannelBuilder.forName(name).build();
        try {
            List<LoadRun.Record> records = new LoadRun(ch, 500).run(8, 3,
                    i -> GenerateRequest.newBuilder().setPrompt("p" + (i % 2)).setSeed(i).build());

            assertEquals(8, records.size());
            for (int i = 0; i < 8; i++) {
                LoadRun.Record r = records.get(i);
                assertEquals(i, r.index());
                assertEquals("p" + (i % 2), r.prompt());
                if (i == 3) {
                    assertEquals("UNAVAILABLE", r.status());
                    assertEquals("no small worker", r.description());
                    assertFalse(r.accepted());
                    assertNull(r.framesSha256());
                } else if (i == 4) {
                    assertEquals("DEADLINE_EXCEEDED", r.status());
                    assertTrue(r.wallMs() >= 400, "ended by the 500 ms deadline, after " + r.wallMs() + " ms");
                } else {
                    assertEquals("OK", r.status());
                    assertTrue(r.accepted());
                    assertEquals(LoadRun.sha256(("frames-" + i).getBytes(StandardCharsets.UTF_8)), r.framesSha256());
                    assertEquals(Map.of("w-a", 2, "w-b", 1), r.stepsByWorker());
                }
            }
            assertTrue(service.maxInFlight.get() <= 3, "at most 3 at once, saw " + service.maxInFlight.get());

            Map<String, Object> s = LoadRun.summary(records, 1.0);
            assertEquals(8, s.get("generations"));
            assertEquals(6, s.get("completed"));
            assertEquals(6, s.get("accepted"));
            assertEquals(Map.of("w-a", 12, "w-b", 6), s.get("steps_by_worker"));
            assertEquals(Map.of("OK", 6, "UNAVAILABLE", 1, "DEADLINE_EXCEEDED", 1), s.get("by_status"));
        } finally {
            ch.shutdownNow();
            server.shutdownNow();
        }
    }

    @Test
    void run_stopSaysTrueAfterFiveStarted_runsRequestsZeroToNMinusOneOnly() throws Exception {
        String name = InProcessServerBuilder.generateName();
        Server server = InProcessServerBuilder.forName(name).addService(new FakeService()).executor(
                java.util.concurrent.Executors.newCachedThreadPool()).build().start();
        ManagedChannel ch = InProcessChannelBuilder.forName(name).build();
        AtomicInteger built = new AtomicInteger();
        try {
            List<LoadRun.Record> records = new LoadRun(ch, 2000).run(1000, 2,
                    i -> {
                        built.incrementAndGet();
                        return GenerateRequest.newBuilder().setPrompt("p").setSeed(10 + i).build();
                    }, () -> built.get() >= 5);

            assertTrue(records.size() >= 5 && records.size() <= 6, "stopped after 5 or 6, ran " + records.size());
            assertEquals(built.get(), records.size());
            for (int i = 0; i < records.size(); i++) {
                assertEquals(i, records.get(i).index());
                assertEquals("OK", records.get(i).status());
            }
        } finally {
            ch.shutdownNow();
            server.shutdownNow();
        }
    }

    @Test
    void percentile_nearestRank() {
        List<Double> v = List.of(1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0);
        assertEquals(5.0, LoadRun.percentile(v, 50));
        assertEquals(10.0, LoadRun.percentile(v, 95));
        assertEquals(1.0, LoadRun.percentile(List.of(1.0), 95));
        assertNull(LoadRun.percentile(List.of(), 50));
    }
}
