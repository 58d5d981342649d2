package dev.flowblend.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.github.benmanes.caffeine.cache.Ticker;
import com.google.protobuf.ByteString;
import dev.flowblend.proto.inference.ModelInferRequest;
import dev.flowblend.runtime.DType;
import dev.flowblend.runtime.ModelEntry;
import dev.flowblend.runtime.ModelFamily;
import dev.flowblend.runtime.TensorSpec;
import dev.flowblend.runtime.Tensors;
import dev.flowblend.runtime.Wire;
import io.grpc.Status;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A text encoder's integer inputs: ids within the tokenizer's vocabulary, mask values 0 or 1, each refused by name. */
class TextEncoderInputsTest {
    private static final ModelFamily FAMILY = ModelFamily.load(ModelFamily.defaultDirectory());
    private static final ModelEntry BUNDLED = FAMILY.byRole(ModelFamily.ROLE_TEXT_ENCODER);
    /** The bundled encoder as a family with masks would declare it. */
    private static final ModelEntry MASKED = new ModelEntry("text-encoder", ModelFamily.ROLE_TEXT_ENCODER, "x.onnx", null,
            0, 0, List.of(new TensorSpec(Wire.INPUT_IDS, DType.INT64, new long[] {-1, 16}),
                    new TensorSpec(Wire.ATTENTION_MASK, DType.INT64, new long[] {-1, 16})), BUNDLED.outputs(), List.of(), null);
    private static final InferRequests REQUESTS = new InferRequests(new ConditioningCache(
            new WorkerConfig.ContextCache(1 << 20, 600), Ticker.systemTicker()), 4, FAMILY.conventions().videoSizes());

    private static ModelInferRequest request(ModelEntry spec, long[] ids, long[] mask) {
        ModelInferRequest.Builder b = ModelInferRequest.newBuilder().setModelName(spec.name());
        b.addInputs(ModelInferRequest.InferInputTensor.newBuilder().setName(Wire.INPUT_IDS).setDatatype("INT64")
                .addShape(1).addShape(16)).addRawInputContents(ByteString.copyFrom(Tensors.bytes(ids)));
        if (mask != null) {
            b.addInputs(ModelInferRequest.InferInputTensor.newBuilder().setName(Wire.ATTENTION_MASK).setDatatype("INT64")
                    .addShape(1).addShape(16)).addRawInputContents(ByteString.copyFrom(Tensors.bytes(mask)));
        }
        return b.build();
    }

    private static InferRequests.Parsed parse(ModelEntry spec, ModelInferRequest r) throws InferException {
        return REQUESTS.parse(r, new HostedModel(spec, null, HostedModel.int64Limits(spec, FAMILY), null), "test");
    }

    private static long[] ids(long... first) {
        long[] a = new long[16];
        System.arraycopy(first, 0, a, 0, first.length);
        return a;
    }

    @Test
    void limits_fromTheFamilysTokenizerAndTheMaskDeclaration() {
        assertEquals(Map.of(Wire.INPUT_IDS, 19L), HostedModel.int64Limits(BUNDLED, FAMILY));
        assertEquals(Map.of(Wire.INPUT_IDS, 19L, Wire.ATTENTION_MASK, 2L), HostedModel.int64Limits(MASKED, FAMILY));
        assertEquals(Map.of(), HostedModel.int64Limits(FAMILY.byRole(ModelFamily.ROLE_DECODER), FAMILY));
    }

    @Test
    void parse_idsAndMaskInRange_acceptedInDeclaredOrder() throws Exception {
        InferRequests.Parsed p = parse(MASKED, request(MASKED, ids(1, 6, 18), ids(1, 1, 1)));
        assertEquals(2, p.inputs().size());
        assertEquals(1, p.batch());
        assertEquals(18, p.inputs().get(0).getLong(2 * 8));
        assertEquals(1, p.inputs().get(1).getLong(2 * 8));
    }

    @Test
    void parse_idEqualToVocabularySize_invalidArgumentNamingInputIndexValueAndRange() {
        InferException e = assertThrows(InferException.class, () -> parse(BUNDLED, request(BUNDLED, ids(1, 6, 12, 19), null)));
        assertEquals(Status.Code.INVALID_ARGUMENT, e.code());
        assertEquals("input 'input_ids' element 3 is 19; must be in [0, 19) (the token ids of the family's tokenizer)",
                e.getMessage());
    }

    @Test
    void parse_negativeId_invalidArgument() {
        InferException e = assertThrows(InferException.class, () -> parse(MASKED, request(MASKED, ids(-1), ids(1))));
        assertEquals("input 'input_ids' element 0 is -1; must be in [0, 19) (the token ids of the family's tokenizer)",
                e.getMessage());
    }

    @Test
    void parse_maskValueTwo_invalidArgumentNamingInputIndexValueAndRange() {
        long[] mask = ids(1, 1, 1, 1, 1, 2);
        InferException e = assertThrows(InferException.class, () -> parse(MASKED, request(MASKED, ids(1, 6), mask)));
        assertEquals(Status.Code.INVALID_ARGUMENT, e.code());
        assertEquals("input 'attention_mask' element 5 is 2; must be 0 or 1 (1 for a token, 0 for padding)", e.getMessage());
    }

    @Test
    void parse_maskOfAnEncoderThatDeclaresNone_invalidArgumentListingItsInputs() {
        InferException e = assertThrows(InferException.class, () -> parse(BUNDLED, request(BUNDLED, ids(1), ids(1))));
        assertEquals("model 'text-encoder' has no input 'attention_mask'; inputs are [input_ids]", e.getMessage());
    }

    @Test
    void parse_maskMissingWhereDeclared_invalidArgumentNamingIt() {
        InferException e = assertThrows(InferException.class, () -> parse(MASKED, request(MASKED, ids(1), null)));
        assertEquals("missing input 'attention_mask' for model 'text-encoder'", e.getMessage());
    }
}
