package dev.flowblend.worker;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.google.protobuf.ByteString;
import dev.flowblend.proto.inference.InferParameter;
import dev.flowblend.proto.inference.InferTensorContents;
import dev.flowblend.proto.inference.ModelInferRequest;
import dev.flowblend.runtime.DType;
import dev.flowblend.runtime.ModelEntry;
import dev.flowblend.runtime.TensorSpec;
import dev.flowblend.runtime.Wire;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

/**
 * Structure-aware ModelInferRequests for the fuzz tests: a request that is valid for a model of the
 * family (names, datatypes, shapes and contents from its manifest entry), then up to a few edits the
 * fuzzer chooses — names, datatypes, shapes, raw or typed contents, values, parameters, versions,
 * requested outputs. The fuzzer's bytes steer every choice, so coverage guidance reaches the checks.
 */
final class FuzzedInferRequests {
    private static final String[] DATATYPES = {"FP32", "INT64", "fp32", "float32", "FP64", "INT32", "BYTES", "BOOL",
        "UINT64", "", "int64"};

    private FuzzedInferRequests() {
    }

    /** One request for {@code spec} (sometimes naming another model: the server routes by model_name). */
    static ModelInferRequest build(FuzzedDataProvider data, ModelEntry spec, int maxBatch) {
        int batch = data.consumeInt(1, Math.min(3, maxBatch));
        boolean typed = data.consumeBoolean();
        ModelInferRequest.Builder b = ModelInferRequest.newBuilder().setModelName(spec.name());
        for (TensorSpec t : spec.inputs()) {
            ModelInferRequest.InferInputTensor.Builder in = ModelInferRequest.InferInputTensor.newBuilder()
                    .setName(t.name()).setDatatype(t.dtype().wireName());
            for (long d : t.withBatch(batch)) {
                in.addShape(d);
            }
            int n = (int) (batch * t.sampleElements());
            if (typed) {
                in.setContents(contents(t.dtype(), n, data));
            } else {
                b.addRawInputContents(raw(t.dtype(), n, data));
            }
            b.addInputs(in);
        }
        int edits = data.consumeInt(0, 4);
        for (int e = 0; e < edits && data.remainingBytes() > 0; e++) {
            edit(b, spec, data);
        }
        return b.build();
    }

    private static ByteString raw(DType dtype, int n, FuzzedDataProvider data) {
        ByteBuffer buf = ByteBuffer.allocate(n * dtype.bytes()).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) {
            if (dtype == DType.FP32) {
                buf.putFloat(i < 4 ? data.consumeRegularFloat(-4f, 4f) : 0.25f);
            } else {
                buf.putLong(i < 4 ? data.consumeLong(0, 63) : 1);
            }
        }
        return ByteString.copyFrom(buf.array());
    }

    private static InferTensorContents.Builder contents(DType dtype, int n, FuzzedDataProvider data) {
        InferTensorContents.Builder c = InferTensorContents.newBuilder();
        for (int i = 0; i < n; i++) {
            if (dtype == DType.FP32) {
                c.addFp32Contents(i < 4 ? data.consumeRegularFloat(-4f, 4f) : 0.25f);
            } else {
                c.addInt64Contents(i < 4 ? data.consumeLong(0, 63) : 1);
            }
        }
        return c;
    }

    private static void edit(ModelInferRequest.Builder b, ModelEntry spec, FuzzedDataProvider data) {
        int inputs = b.getInputsCount();
        int i = inputs == 0 ? 0 : data.consumeInt(0, inputs - 1);
        switch (data.consumeInt(0, 15)) {
            case 0 -> {
                if (inputs > 0) {
                    b.setInputs(i, b.getInputs(i).toBuilder().setName(data.consumeString(12)));
                }
            }
            case 1 -> {
                if (inputs > 0) {
                    b.setInputs(i, b.getInputs(i).toBuilder().setDatatype(data.pickValue(DATATYPES)));
                }
            }
            case 2 -> {
                if (inputs > 0) {
                    ModelInferRequest.InferInputTensor.Builder in = b.getInputs(i).toBuilder();
                    if (in.getShapeCount() > 0) {
                        in.setShape(data.consumeInt(0, in.getShapeCount() - 1), shapeValue(data));
                    }
                    b.setInputs(i, in);
                }
            }
            case 3 -> {
                if (inputs > 0) {
                    ModelInferRequest.InferInputTensor.Builder in = b.getInputs(i).toBuilder();
                    if (data.consumeBoolean()) {
                        in.addShape(shapeValue(data));
                    } else {
                        List<Long> s = in.getShapeList();
                        in.clearShape().addAllShape(s.subList(0, data.consumeInt(0, s.size())));
                    }
                    b.setInputs(i, in);
                }
            }
            case 4 -> {  // raw bytes of another length, or other values
                if (i < b.getRawInputContentsCount()) {
                    ByteString r = b.getRawInputContents(i);
                    b.setRawInputContents(i, data.consumeBoolean() ? r.substring(0, data.consumeInt(0, r.size()))
                            : r.concat(ByteString.copyFrom(data.consumeBytes(16))));
                }
            }
            case 5 -> {  // a special value at some element: NaN, infinities, out-of-vocabulary ids
                if (i < inputs && i < b.getRawInputContentsCount() && b.getRawInputContents(i).size() >= 8) {
                    byte[] r = b.getRawInputContents(i).toByteArray();
                    ByteBuffer buf = ByteBuffer.wrap(r).order(ByteOrder.LITTLE_ENDIAN);
                    int at = data.consumeInt(0, r.length / 8 - 1) * 8;
                    if (b.getInputs(i).getDatatype().equals("INT64")) {
                        buf.putLong(at, data.consumeLong());
                    } else {
                        buf.putFloat(at, data.pickValue(new Float[] {Float.NaN, Float.POSITIVE_INFINITY,
                            Float.NEGATIVE_INFINITY, -0f, Float.MAX_VALUE, data.consumeFloat()}));
                    }
                    b.setRawInputContents(i, ByteString.copyFrom(r));
                }
            }
            case 6 -> {  // typed contents: added to a raw request, or of the wrong kind or count
                if (inputs > 0) {
                    InferTensorContents.Builder c = b.getInputs(i).getContents().toBuilder();
                    switch (data.consumeInt(0, 5)) {
                        case 0 -> c.addFp32Contents(data.consumeFloat());
                        case 1 -> c.addFp64Contents(data.consumeDouble());
                        case 2 -> c.addInt64Contents(data.consumeLong());
                        case 3 -> c.addIntContents(data.consumeInt());
                        case 4 -> c.addBytesContents(ByteString.copyFrom(data.consumeBytes(8)));
                        default -> c.addBoolContents(data.consumeBoolean());
                    }
                    b.setInputs(i, b.getInputs(i).toBuilder().setContents(c));
                }
            }
            case 7 -> {
                if (inputs > 0) {
                    b.removeInputs(i);
                }
            }
            case 8 -> {
                if (inputs > 0) {
                    b.addInputs(b.getInputs(i));
                }
            }
            case 9 -> b.addRawInputContents(ByteString.copyFrom(data.consumeBytes(32)));
            case 10 -> b.clearRawInputContents();
            case 11 -> b.setModelVersion(data.pickValue(new String[] {"1", "2", "", data.consumeString(4)}));
            case 12 -> b.addOutputs(ModelInferRequest.InferRequestedOutputTensor.newBuilder().setName(
                    data.consumeBoolean() ? spec.outputs().get(0).name() : data.consumeString(10)));
            case 13 -> b.putParameters(Wire.CONTEXT_ID, contextId(b, data));
            case 14 -> b.putParameters(data.consumeString(12), InferParameter.newBuilder()
                    .setInt64Param(data.consumeLong()).build());
            default -> b.setModelName(data.consumeString(16));
        }
    }

    /** A context id: the true id of the request's context input, a string, or a parameter of the wrong kind. */
    private static InferParameter contextId(ModelInferRequest.Builder b, FuzzedDataProvider data) {
        switch (data.consumeInt(0, 3)) {
            case 0 -> {
                for (int i = 0; i < b.getInputsCount() && i < b.getRawInputContentsCount(); i++) {
                    if (b.getInputs(i).getName().equals(InferRequests.CONDITIONING_INPUT)) {
                        return InferParameter.newBuilder().setStringParam(
                                Wire.contextId(b.getRawInputContents(i).asReadOnlyByteBuffer())).build();
                    }
                }
                return InferParameter.newBuilder().setStringParam("0".repeat(64)).build();
            }
            case 1 -> {
                return InferParameter.newBuilder().setStringParam(data.consumeString(300)).build();
            }
            case 2 -> {
                return InferParameter.newBuilder().setBoolParam(data.consumeBoolean()).build();
            }
            default -> {
                return InferParameter.newBuilder().setInt64Param(data.consumeLong()).build();
            }
        }
    }

    private static long shapeValue(FuzzedDataProvider data) {
        return data.pickValue(new Long[] {-1L, 0L, 1L, 2L, 33L, 1L << 31, Long.MAX_VALUE, Long.MIN_VALUE,
            data.consumeLong()});
    }
}
