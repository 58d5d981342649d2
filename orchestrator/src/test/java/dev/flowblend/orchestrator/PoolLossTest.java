package dev.flowblend.orchestrator;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.flowblend.proto.generation.GenerateEvent;
import dev.flowblend.proto.generation.GenerateRequest;
import dev.flowblend.proto.generation.Plan;
import dev.flowblend.proto.generation.Result;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The small pool's only worker stops: every later FlowBlending generation completes, its small
 * steps on the large pool, and is exactly large-only's video (the same steps on the same model).
 * Prints what that costs in wall time (docs/reliability.md, "Pool loss"); no timing is asserted.
 */
class PoolLossTest {
    private static GenerateRequest request(String preset) {
        return GenerateRequest.newBuilder().setPrompt("a red circle moving right").setSeed(11).setIncludeFrames(true)
                .setPlan(Plan.newBuilder().setPreset(preset)).build();
    }

    private record Run(Result result, double wallMs) {
    }

    private static Run generate(TestCluster c, String preset) {
        long t0 = System.nanoTime();
        List<GenerateEvent> events = c.generate(request(preset));
        return new Run(events.get(events.size() - 1).getResult(), (System.nanoTime() - t0) / 1e6);
    }

    @Test
    @Timeout(300)
    void generate_smallPoolsOnlyWorkerStopped_everyGenerationCompletesAsLargeOnlyAndTheCostIsPrinted()
            throws Exception {
        int runs = 9;
        double[] normal = new double[runs];
        double[] largeOnly = new double[runs];
        double[] gone = new double[runs];
        // both clusters at once, their runs alternating, so a shared machine's load falls on both alike
        // over loopback sockets: the stopped worker's address refuses connections, as a killed process's does
        try (TestCluster ok = new TestCluster(true, 1, List.of(), null);
             TestCluster lost = new TestCluster(true, 1, List.of(), null)) {
            byte[] reference = generate(ok, "large-only").result().getFrames().toByteArray();  // also warms up
            generate(ok, "flowblending");
            generate(lost, "flowblending");
            lost.workers.get(1).close();  // the small pool's only worker
            Run first = generate(lost, "flowblending");  // the first step there pays the failed try
            assertArrayEquals(reference, first.result().getFrames().toByteArray());
            for (int i = 0; i < runs; i++) {
                normal[i] = generate(ok, "flowblending").wallMs();
                largeOnly[i] = generate(ok, "large-only").wallMs();
                Run r = generate(lost, "flowblending");
                assertArrayEquals(reference, r.result().getFrames().toByteArray(), "run " + i);
                assertEquals(Set.of("large"), r.result().getMetadata().getServedMap().keySet());
                assertEquals(20, r.result().getMetadata().getFallbacks(0).getStepsCount());
                gone[i] = r.wallMs();
            }
            // as before fallbacks: the same loss with "fallback": "none" fails the generation
            double failedAfter;
            try (TestCluster none = new TestCluster(true, new TestCluster.Layout(List.of(), 1, List.of(),
                    List.of("velocity-small"), OrchestratorConfig.PoolConfig.NO_FALLBACK, null), null)) {
                generate(none, "flowblending");
                none.workers.get(1).close();
                long t0 = System.nanoTime();
                StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> generate(none, "flowblending"));
                failedAfter = (System.nanoTime() - t0) / 1e6;
                assertEquals(Status.Code.UNAVAILABLE, e.getStatus().getCode());
            }
            System.out.println("PoolLossTest: with \"fallback\": \"none\" UNAVAILABLE after " + failedAfter + " ms; "
                    + "median wall of a 50-step FlowBlending generation with the small pool gone "
                    + TestCluster.median(gone) + " ms, with it " + TestCluster.median(normal) + " ms (" + TestCluster.median(gone) / TestCluster.median(normal)
                    + "x), large-only " + TestCluster.median(largeOnly) + " ms; first generation after the worker stopped "
                    + first.wallMs() + " ms (runs: gone " + Arrays.toString(gone) + ", normal " + Arrays.toString(normal)
                    + ", large-only " + Arrays.toString(largeOnly) + ")");
        }
    }
}
