package dev.flowblend.orchestrator;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flowblend.proto.generation.GenerateEvent;
import dev.flowblend.proto.generation.GenerateRequest;
import dev.flowblend.proto.generation.Plan;
import dev.flowblend.proto.generation.Result;
import io.grpc.Server;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A worker that takes steps and never answers them (stalled, but its health check still says
 * SERVING) costs a generation one hedging budget now and then, not a step timeout: the step goes
 * to the other worker of the pool and the first answer wins. Frames stay bitwise the same.
 */
class StragglerTest {
    private static final GenerateRequest REQUEST = GenerateRequest.newBuilder().setPrompt("a red circle moving right")
            .setSeed(11).setIncludeFrames(true).setPlan(Plan.newBuilder().setPreset("flowblending")).build();

    private record Run(byte[] frames, double wallMs) {
    }

    private static Run generate(TestCluster c) {
        long t0 = System.nanoTime();
        List<GenerateEvent> events = c.generate(REQUEST);
        Result r = events.get(events.size() - 1).getResult();
        return new Run(r.getFrames().toByteArray(), (System.nanoTime() - t0) / 1e6);
    }

    @Test
    @Timeout(300)
    void generate_oneOfTwoSmallWorkersStalledThroughout_completesIdenticalWithinHalfAgainTheFaultFreeTime()
            throws Exception {
        int runs = 5;
        double[] clean = new double[runs];
        double[] stalled = new double[runs];
        String mute = "inproc-stalled-" + System.nanoTime() + ":0";
        Server stalledWorker = RemoteBackendTest.muteWorker(mute);
        // both clusters at once, their runs alternating, so a shared machine's load falls on both alike
        try (TestCluster ok = new TestCluster(false, 1, List.of(), null);
             TestCluster faulty = new TestCluster(false, 1, List.of(mute), null)) {
            byte[] reference = generate(ok).frames();  // warm-up, and the frames every run must reproduce
            assertArrayEquals(reference, generate(faulty).frames());
            for (int i = 0; i < runs; i++) {
                Run a = generate(ok);
                Run b = generate(faulty);
                assertArrayEquals(reference, a.frames());
                assertArrayEquals(reference, b.frames(), "run " + i + " with a stalled worker");
                clean[i] = a.wallMs();
                stalled[i] = b.wallMs();
            }
            double hedges = faulty.registry.get(OrchestratorMetrics.STEP_HEDGES).tags("pool", "small").counter().count();
            assertTrue(hedges >= 1, "the stalled worker's steps were hedged: " + hedges);
        } finally {
            stalledWorker.shutdownNow();
        }
        double ratio = TestCluster.median(stalled) / TestCluster.median(clean);
        assertTrue(ratio <= 1.5, "median wall " + TestCluster.median(stalled) + " ms with a stalled worker vs " + TestCluster.median(clean)
                + " ms without: " + ratio + "x (clean " + Arrays.toString(clean) + ", stalled "
                + Arrays.toString(stalled) + ")");
        System.out.println("StragglerTest: median wall with a stalled worker / without = " + ratio
                + " (" + TestCluster.median(stalled) + " / " + TestCluster.median(clean) + " ms)");
    }
}
