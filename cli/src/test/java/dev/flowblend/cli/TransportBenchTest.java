package dev.flowblend.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flowblend.proto.inference.InferParameter;
import dev.flowblend.proto.inference.ModelInferRequest;
import dev.flowblend.runtime.Wire;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The transport bench's accounting, exact and without timing: the tensor bytes of each wire form,
 * the protocol's few hundred bytes around them, the echo sent and answering the same message
 * sizes, and every velocity bitwise the latent (the bench itself refuses a step that is not).
 */
class TransportBenchTest {
    private static final Path MODELS = Path.of(System.getProperty("flowblend.models", "../models")).resolve("transport");
    /** Generous for what surrounds the tensors: names, datatypes, shapes, context id, the worker's parameters. */
    private static final long PROTOCOL_BOUND = 512;

    private static TransportBench.Result run(String size, int runs, int warmup, int steps) throws Exception {
        TransportOptions o = new TransportOptions();
        o.enabled = true;
        o.size = size;
        o.runs = runs;
        o.warmup = warmup;
        o.steps = steps;
        o.models = MODELS;
        return new TransportBench(o).run(() -> { });
    }

    /** Latent elements of one sample at {@code r}'s size. */
    private static long latent(TransportBench.Result r) {
        long n = 1;
        for (int d = 1; d < r.latentShape().length; d++) {
            n *= r.latentShape()[d];
        }
        return n;
    }

    private static void assertExact(TransportBench.Result r, int recorded) {
        long n = latent(r);
        // a: FP32 latent and timestep twice (both branches); b: BF16 twice; c: BF16 once, FP32 timestep once
        long[][] tensors = {{2 * n * 4 + 2 * 4, 2 * n * 4}, {2 * n * 2 + 2 * 4, 2 * n * 2}, {n * 2 + 4, n * 2}};
        for (int i = 0; i < 3; i++) {
            TransportBench.ModeResult m = r.modes().get(i);
            String k = m.mode().key();
            assertEquals(tensors[i][0], m.payloadIn(), k + " tensor bytes in");
            assertEquals(tensors[i][1], m.payloadOut(), k + " tensor bytes out");
            for (TransportBench.Sizes s : new TransportBench.Sizes[] {m.requests(), m.replies()}) {
                long tensorBytes = s == m.requests() ? m.payloadIn() : m.payloadOut();
                assertTrue(s.min() > tensorBytes && s.max() <= tensorBytes + PROTOCOL_BOUND, k + ": " + s + " around "
                        + tensorBytes + " tensor bytes");
            }
            assertEquals(m.echoRequest(), m.echoIn(), k + ": the echo read the request's bytes");
            assertEquals(m.echoReply(), m.echoOut(), k + ": the echo answered the worker's answer size");
            assertTrue(m.echoRequest() >= m.requests().min() && m.echoRequest() <= m.requests().max(), k);
            assertEquals(recorded, m.stepMs().stream().mapToInt(java.util.List::size).sum(), k + " recorded steps");
            assertEquals(recorded, m.echoMs().stream().mapToInt(java.util.List::size).sum(), k + " recorded echoes");
            assertTrue(m.verifiedSteps() >= recorded, k + ": every step's velocity was compared with the latent");
        }
        assertEquals(4 * (r.modes().get(2).payloadIn() - 4), r.modes().get(0).payloadIn() - 8,
                "FP32 pair against one BF16 latent: 4x the latent bytes");
    }

    @Test
    @Timeout(120)
    void tinySize_tensorBytesExact_protocolBytesBounded_echoSameSizes() throws Exception {
        TransportBench.Result r = run("tiny", 2, 1, 2);
        assertEquals(128, latent(r));  // [16, 2, 2, 2]
        assertExact(r, 4);
        Map<String, Object> s = TransportReport.summary(r);
        Map<?, ?> c = (Map<?, ?>) ((Map<?, ?>) s.get("modes")).get("c");
        assertEquals(516L, c.get("tensor_bytes_per_step"));
        assertNotNull(s.get("bytes_cut_c_vs_a"));
    }

    @Test
    @Timeout(300)
    void wan480p_oneStepPerMode_theFp32PairMovesFourTimesTheBytesOfOneBf16Latent() throws Exception {
        TransportBench.Result r = run("480p", 1, 0, 1);
        assertEquals(16L * 21 * 60 * 104, latent(r));
        assertExact(r, 1);
        TransportBench.ModeResult a = r.modes().get(0);
        TransportBench.ModeResult c = r.modes().get(2);
        assertEquals(33_546_248, a.payloadIn() + a.payloadOut());  // 2 x 8.39 MB each way
        assertEquals(8_386_564, c.payloadIn() + c.payloadOut());   // 4.19 MB each way
        double cut = (a.requests().mean() + a.replies().mean()) / (c.requests().mean() + c.replies().mean());
        assertTrue(cut > 3.99 && cut < 4.0, "message bytes a / c = " + cut);
    }

    @Test
    void steadyForm_refusesTheContextInline_theWrongGuidanceForm_andTheWrongBatch() {
        TransportBench.Mode guided = TransportBench.MODES.get(2);
        TransportBench.Mode both = TransportBench.MODES.get(0);
        ModelInferRequest.Builder ok = ModelInferRequest.newBuilder()
                .putParameters(Wire.CONTEXT_ID, InferParameter.newBuilder().setStringParam("ctx-1").build())
                .putParameters(Wire.GUIDANCE_SCALE, InferParameter.newBuilder().setDoubleParam(5).build())
                .addInputs(ModelInferRequest.InferInputTensor.newBuilder().setName("latent").addShape(1));
        assertNull(TransportBench.steady(ok.build(), guided));
        assertTrue(TransportBench.steady(ok.build(), both).contains("guidance_scale"));
        assertTrue(TransportBench.steady(ok.clone().removeParameters(Wire.GUIDANCE_SCALE).build(), both)
                .contains("latent batch 1"));
        assertTrue(TransportBench.steady(ok.clone().addInputs(ModelInferRequest.InferInputTensor.newBuilder()
                .setName("context")).build(), guided).contains("context"));
        assertTrue(TransportBench.steady(ok.clone().removeParameters(Wire.CONTEXT_ID).build(), guided)
                .contains("context"));
        assertTrue(TransportBench.steady(null, guided).contains("no request"));
    }
}
