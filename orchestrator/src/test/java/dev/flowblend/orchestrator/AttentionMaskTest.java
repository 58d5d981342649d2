package dev.flowblend.orchestrator;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flowblend.runtime.Json;
import dev.flowblend.runtime.ModelEntry;
import dev.flowblend.runtime.ModelFamily;
import dev.flowblend.runtime.OnnxModel;
import dev.flowblend.runtime.RuntimeOptions;
import dev.flowblend.runtime.TokenizedPrompt;
import dev.flowblend.runtime.Tokenizer;
import dev.flowblend.runtime.Wire;
import dev.flowblend.worker.WorkerConfig;
import dev.flowblend.worker.WorkerServer;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.Function;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The attention mask end to end: sent with the ids to a text encoder that declares it (in-process,
 * to a flowblend worker, to a stock OIP server), never to one that does not (the bundled family's).
 * The masked family is the bundled one with its text encoder replaced by text-encoder-masked.onnx
 * (test resource: context[b, t, :] = mask[b, t] * (ids[b, t] + 100)).
 */
class AttentionMaskTest {
    private static final int L = 16;
    private static final int D = 64;
    @TempDir
    static Path dir;
    private static ModelFamily masked;
    private static Tokenizer tokenizer;
    private static TokenizedPrompt prompt;

    @BeforeAll
    static void family() throws Exception {
        Path bundled = ModelFamily.defaultDirectory().toAbsolutePath();
        try (InputStream in = AttentionMaskTest.class.getResourceAsStream("/masked-text-encoder/text-encoder-masked.onnx")) {
            Files.copy(in, dir.resolve("text-encoder-masked.onnx"));
        }
        ObjectNode m = (ObjectNode) Json.mapper().readTree(bundled.resolve("manifest.json").toFile());
        for (JsonNode e : m.get("models")) {
            ObjectNode entry = (ObjectNode) e;
            if (entry.get("role").asText().equals(ModelFamily.ROLE_TEXT_ENCODER)) {
                entry.put("file", "text-encoder-masked.onnx").remove("sha256");
                ObjectNode mask = ((ArrayNode) entry.get("inputs")).addObject().put("name", Wire.ATTENTION_MASK)
                        .put("dtype", "int64");
                mask.putArray("shape").add(-1).add(L);
            } else {
                // model files must lie inside the family directory: copy the bundled ones (small)
                Files.copy(bundled.resolve(entry.get("file").asText()), dir.resolve(entry.get("file").asText()));
            }
        }
        Files.copy(bundled.resolve("tokenizer.json"), dir.resolve("tokenizer.json"));
        Files.copy(bundled.resolve("evaluator-reference.json"), dir.resolve("evaluator-reference.json"));
        Json.mapper().writeValue(dir.resolve("manifest.json").toFile(), m);
        masked = ModelFamily.load(dir);
        tokenizer = Tokenizer.load(masked);
        prompt = tokenizer.encode("a red circle");
    }

    @AfterAll
    static void close() {
        tokenizer.close();
    }

    /** What the masked encoder returns for {@link #prompt}: ids + 100 where the mask is 1, else 0. */
    private static float[] expected() {
        long[] ids = prompt.ids();
        long[] mask = prompt.mask();
        float[] out = new float[L * D];
        for (int t = 0; t < L; t++) {
            java.util.Arrays.fill(out, t * D, (t + 1) * D, mask[t] * (ids[t] + 100f));
        }
        return out;
    }

    @Test
    void tokenizedPrompt_maskOnesForTheTokensOnly() {
        assertArrayEquals(new long[] {1, 6, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, prompt.ids());
        assertArrayEquals(new long[] {1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, prompt.mask());
    }

    @Test
    void inProcess_encoderDeclaresMask_modelGetsIt() throws Exception {
        try (InProcessBackend b = InProcessBackend.largeSmall(masked, RuntimeOptions.cpu(1))) {
            assertArrayEquals(expected(), b.encodeText(prompt.ids(), prompt.mask(), 1));
            BackendException e = assertThrows(BackendException.class, () -> b.encodeText(prompt.ids(), null, 1));
            assertTrue(e.getMessage().contains("takes 'attention_mask' but no mask was given"), e.getMessage());
        }
    }

    @Test
    void inProcess_bundledEncoderDeclaresNone_maskNotSent() throws Exception {
        try (InProcessBackend b = InProcessBackend.largeSmall(TestCluster.FAMILY, RuntimeOptions.cpu(1))) {
            // a second input would be refused by ONNX Runtime; the context is the ids' alone
            assertArrayEquals(b.encodeText(prompt.ids(), null, 1), b.encodeText(prompt.ids(), prompt.mask(), 1));
        }
    }

    private static RemoteBackend backend(ModelFamily family, String encoderAddress, Function<String, io.grpc.ManagedChannel> ch,
                                         ScheduledExecutorService s) {
        OrchestratorConfig config = new OrchestratorConfig(null, 0, null, List.of(
                new OrchestratorConfig.PoolConfig("large", "velocity-large", List.of(encoderAddress), null, 0),
                new OrchestratorConfig.PoolConfig("small", "velocity-small", List.of("nowhere:1"), null, 0)),
                null, null, null, Map.of(), OrchestratorConfig.Limits.DEFAULT, 0, 0, 200, 0, 0, null,
                true, null, null, OrchestratorConfig.Security.PLAINTEXT);
        return new RemoteBackend(family, config, ch, s, WorkerPool.Resolver.SYSTEM,
                new OrchestratorMetrics(new SimpleMeterRegistry()));
    }

    /** Waits until the first health round has seen the encoder's endpoint (so its capabilities are known). */
    private static void awaitServable(RemoteBackend b) throws InterruptedException {
        long until = System.nanoTime() + 20_000_000_000L;
        while (b.unservable("large") != null && System.nanoTime() < until) {
            Thread.sleep(20);
        }
    }

    @Test
    void remote_flowblendWorkerHostingMaskedEncoder_validatesAndRunsTheMask() throws Exception {
        ScheduledExecutorService s = Executors.newSingleThreadScheduledExecutor();
        String name = "masked-encoder:1";  // pool endpoints are host:port; in-process names them
        WorkerConfig c = new WorkerConfig("enc", "large", null, 0, null, List.of("text-encoder"), RuntimeOptions.cpu(1),
                null, new WorkerConfig.ContextCache(1 << 20, 60), 0, 1, 0, null, null, WorkerConfig.Security.PLAINTEXT);
        try (WorkerServer w = new WorkerServer(c, masked, InProcessServerBuilder.forName(name)).start();
             RemoteBackend b = backend(masked, name, a -> InProcessChannelBuilder.forName(a).build(), s)) {
            awaitServable(b);
            assertArrayEquals(expected(), b.encodeText(prompt.ids(), prompt.mask(), 1));
            long[] bad = prompt.mask();
            bad[4] = 2;  // what a buggy client might send: the worker refuses it, naming the element
            BackendException e = assertThrows(BackendException.class, () -> b.encodeText(prompt.ids(), bad, 1));
            assertTrue(e.toString().contains("input 'attention_mask' element 4 is 2; must be 0 or 1"), e.toString());
        } finally {
            s.shutdownNow();
        }
    }

    @ParameterizedTest(name = "masked family {0}")
    @ValueSource(booleans = {true, false})
    void remote_stockServer_getsExactlyTheDeclaredInputs(boolean withMask) throws Exception {
        ModelFamily family = withMask ? masked : TestCluster.FAMILY;
        ModelEntry encoder = family.byRole(ModelFamily.ROLE_TEXT_ENCODER);
        ScheduledExecutorService s = Executors.newSingleThreadScheduledExecutor();
        try (StockOipServer stock = new StockOipServer(encoder, OnnxModel.load(family, encoder, RuntimeOptions.cpu(1)), false);
             RemoteBackend b = backend(family, stock.address(), a -> NettyChannelBuilder.forTarget(a).usePlaintext().build(), s)) {
            awaitServable(b);
            float[] ctx = b.encodeText(prompt.ids(), prompt.mask(), 1);
            assertEquals(withMask ? List.of(Wire.INPUT_IDS, Wire.ATTENTION_MASK) : List.of(Wire.INPUT_IDS), stock.lastInputs);
            if (withMask) {
                assertArrayEquals(expected(), ctx);
            } else {
                try (InProcessBackend local = InProcessBackend.largeSmall(family, RuntimeOptions.cpu(1))) {
                    assertArrayEquals(local.encodeText(prompt.ids(), null, 1), ctx);
                }
            }
        } finally {
            s.shutdownNow();
        }
    }
}
