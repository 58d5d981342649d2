package dev.flowblend.orchestrator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flowblend.runtime.RuntimeOptions;
import dev.flowblend.worker.WorkerConfig;
import dev.flowblend.worker.WorkerServer;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Real-size tensors on the real transport: batches of the bundled small model as large as one
 * WAN 2.1 480p latent (16 x 21 x 60 x 104 floats, 8.4 MB), several at once on the orchestrator's
 * one stream to the worker, over loopback sockets. Each message is many HTTP/2 flow-control
 * windows long, and the worker writes its answers only as the orchestrator reads them.
 */
class LargeTensorLoopbackTest {
    private static final int LATENT = TestCluster.FAMILY.conventions().latentElements();
    private static final int CONTEXT = TestCluster.FAMILY.manifest().text().maxTokens()
            * TestCluster.FAMILY.manifest().text().contextDim();
    private static final int SAMPLES = 1400;  // x 1536 latent floats = 8.6 MB each way

    private static OrchestratorConfig orchestrator(String smallWorker) {
        return new OrchestratorConfig(null, 0, null, List.of(
                new OrchestratorConfig.PoolConfig("large", "velocity-large", List.of("nowhere:1"), null, 0),
                new OrchestratorConfig.PoolConfig("small", "velocity-small", List.of(smallWorker), null, 0)),
                null, null, null, Map.of(), null, 0, 0, 60_000, 64 << 20, 0, null, true, null, null, OrchestratorConfig.Security.PLAINTEXT);
    }

    @Test
    @Timeout(120)
    void velocity_wanSizedBatchesConcurrentlyOnOneStream_eachAnsweredInFullAsASmallBatchWouldBe() throws Exception {
        WorkerConfig c = new WorkerConfig("big-0", "small", "127.0.0.1", 0, null, List.of("velocity-small"),
                RuntimeOptions.cpu(1), new WorkerConfig.Batching(SAMPLES, 0, 16), null, 64 << 20, 5, 0, null, null, WorkerConfig.Security.PLAINTEXT);
        ScheduledExecutorService timers = Executors.newSingleThreadScheduledExecutor();
        try (WorkerServer w = new WorkerServer(c, TestCluster.FAMILY,
                NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))).start();
             RemoteBackend r = new RemoteBackend(TestCluster.FAMILY, orchestrator("127.0.0.1:" + w.port()),
                     OrchestratorServer.nettyChannels(64 << 20), timers)) {
            float[] timesteps = new float[SAMPLES];
            Arrays.fill(timesteps, 500f);
            Conditioning cond = Conditioning.of(Noise.gaussian(2, SAMPLES * CONTEXT), SAMPLES);
            List<float[]> latents = new ArrayList<>();
            List<CompletableFuture<Backend.Velocity>> calls = new ArrayList<>();
            for (int k = 0; k < 3; k++) {  // 26 MB of answers in flight against 1 MB HTTP/2 windows
                latents.add(Noise.gaussian(10 + k, SAMPLES * LATENT));
                calls.add(r.velocityAsync("small", latents.get(k), timesteps, cond, SAMPLES));
            }
            for (int k = 0; k < 3; k++) {
                float[] v = Backend.await(calls.get(k)).values();
                assertEquals(SAMPLES * LATENT, v.length);
                // the first two samples alone, as a generation's step sends them
                Backend.Velocity two = r.velocity("small", Arrays.copyOf(latents.get(k), 2 * LATENT),
                        new float[] {500f, 500f}, Conditioning.of(Arrays.copyOf(cond.context(), 2 * CONTEXT), 2), 2);
                for (int i = 0; i < 2 * LATENT; i++) {
                    float a = v[i];
                    float b = two.values()[i];
                    assertTrue(Math.abs(a - b) <= 1e-4f * Math.max(1f, Math.abs(b)),
                            "call " + k + " element " + i + ": " + a + " in the large batch, " + b + " alone");
                }
                float last = v[v.length - 1];
                assertTrue(Float.isFinite(last), "the last element arrived: " + last);
            }
        } finally {
            timers.shutdownNow();
            timers.awaitTermination(5, TimeUnit.SECONDS);
        }
    }
}
