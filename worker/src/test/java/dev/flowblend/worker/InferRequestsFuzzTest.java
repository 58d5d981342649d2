package dev.flowblend.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import com.github.benmanes.caffeine.cache.Ticker;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.flowblend.proto.inference.ModelInferRequest;
import dev.flowblend.runtime.ModelEntry;
import dev.flowblend.runtime.ModelFamily;
import dev.flowblend.runtime.TensorSpec;
import io.grpc.Status;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Set;

/**
 * Coverage-guided fuzzing of the worker's request validation ({@link InferRequests#parse}), from
 * structured requests and from raw protobuf bytes. Invariant: a request is either accepted with
 * tensors of exactly the declared shapes, or refused with a client-mistake status and a message;
 * nothing else escapes (no other exception, no INTERNAL or UNKNOWN). Regression inputs live in
 * src/test/resources/dev/flowblend/worker/InferRequestsFuzzTestInputs/; docs/reliability.md#fuzzing.
 */
class InferRequestsFuzzTest {
    static final int MAX_BATCH = 4;
    /** What parse may answer for a client's mistake: wrong field, unknown version, uncached context. */
    static final Set<Status.Code> CLIENT_CODES = Set.of(Status.Code.INVALID_ARGUMENT, Status.Code.NOT_FOUND,
            Status.Code.FAILED_PRECONDITION);

    private static final ModelFamily FAMILY = ModelFamily.load(ModelFamily.defaultDirectory());
    private static final List<HostedModel> HOSTED = FAMILY.models().stream().map(e -> new HostedModel(e, null,
            HostedModel.int64Limits(e, FAMILY), null))
            .toList();
    private static final InferRequests REQUESTS = new InferRequests(new ConditioningCache(
            new WorkerConfig.ContextCache(1 << 20, 600), Ticker.systemTicker()), MAX_BATCH, FAMILY.conventions().videoSizes());

    @FuzzTest(maxDuration = "60s")
    void parse_structuredRequest_acceptedWithDeclaredShapesOrRefusedAsClientMistake(FuzzedDataProvider data) {
        HostedModel hosted = HOSTED.get(data.consumeInt(0, HOSTED.size() - 1));
        check(FuzzedInferRequests.build(data, hosted.spec(), MAX_BATCH), hosted);
    }

    @FuzzTest(maxDuration = "60s")
    void parse_protobufBytes_acceptedWithDeclaredShapesOrRefusedAsClientMistake(byte[] bytes) {
        if (bytes.length == 0) {
            return;
        }
        ModelInferRequest r;
        try {
            r = ModelInferRequest.parseFrom(ByteBuffer.wrap(bytes, 1, bytes.length - 1));
        } catch (InvalidProtocolBufferException e) {
            return;  // not a message: the transport's marshaller refuses it (WorkerNetworkFuzzTest)
        }
        check(r, HOSTED.get(Byte.toUnsignedInt(bytes[0]) % HOSTED.size()));
    }

    /** The invariant for one request against one model. */
    static void check(ModelInferRequest r, HostedModel hosted) {
        InferRequests.Parsed p;
        try {
            p = REQUESTS.parse(r, hosted, "fuzz");
        } catch (InferException e) {
            assertTrue(CLIENT_CODES.contains(e.code()), () -> e.code() + ": " + e.getMessage());
            assertTrue(e.getMessage() != null && !e.getMessage().isBlank(), "a refusal says why");
            return;
        }
        REQUESTS.forget(p);
        ModelEntry spec = hosted.spec();
        assertTrue(p.batch() >= 1 && p.batch() <= MAX_BATCH, () -> "batch " + p.batch());
        assertEquals(spec.inputs().size(), p.inputs().size());
        for (int i = 0; i < spec.inputs().size(); i++) {
            TensorSpec t = spec.inputs().get(i);
            assertEquals(p.batch() * t.sampleBytes(), (long) p.inputs().get(i).remaining() * p.repeat(i), t.name());
        }
        for (ModelInferRequest.InferInputTensor in : r.getInputsList()) {
            TensorSpec t = spec.input(in.getName());
            assertEquals(t.dtype().wireName(), in.getDatatype());
            long[] want = t.withBatch(p.batch());
            assertEquals(want.length, in.getShapeCount(), in.getName());
            for (int d = 0; d < want.length; d++) {
                assertEquals(want[d], in.getShape(d), in.getName() + " dimension " + d);
            }
        }
        assertFalse(p.outputs().isEmpty());
        p.outputs().forEach(o -> assertTrue(o >= 0 && o < spec.outputs().size()));
    }
}
