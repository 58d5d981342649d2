package dev.flowblend.runtime;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtProvider;
import ai.onnxruntime.OrtSession;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One ONNX model in an ONNX Runtime session, fed and drained as little-endian byte buffers (the
 * Open Inference Protocol's raw layout, so the worker never converts element by element).
 *
 * <p>Thread-safety: {@link #run} may be called concurrently (OrtSession is thread-safe); workers
 * serialise calls per model through their batcher. Ownership: the creator closes it, after every
 * caller of {@link #run} has returned.
 */
public final class OnnxModel implements AutoCloseable {
    private final ModelEntry spec;
    private final OrtSession session;
    private final OnnxJavaType[] inputTypes;

    private OnnxModel(ModelEntry spec, OrtSession session) {
        this.spec = spec;
        this.session = session;
        this.inputTypes = spec.inputs().stream()
                .map(t -> javaType(t.dtype())).toArray(OnnxJavaType[]::new);
    }

    private static OnnxJavaType javaType(DType t) {
        return switch (t) {
            case FP32 -> OnnxJavaType.FLOAT;
            case FP16 -> OnnxJavaType.FLOAT16;
            case BF16 -> OnnxJavaType.BFLOAT16;
            case INT64 -> OnnxJavaType.INT64;
        };
    }

    /**
     * Loads a family member; the exception names the model and the runtime's reason. The session is
     * created from the model's path, so ONNX Runtime reads (on CPU: maps) the model's external data
     * files itself, relative to the model file; no weights pass through the Java heap.
     */
    public static OnnxModel load(ModelFamily family, ModelEntry spec, RuntimeOptions options) {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions so = new OrtSession.SessionOptions()) {
            so.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            so.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
            so.setIntraOpNumThreads(options.intraOpThreads());
            so.setInterOpNumThreads(options.interOpThreads());
            if (options.executionProvider().startsWith("cuda")) {
                if (!OrtEnvironment.getAvailableProviders().contains(OrtProvider.CUDA)) {
                    throw new IllegalStateException("cannot load model '" + spec.name() + "' with execution provider '"
                            + options.executionProvider() + "': this build's ONNX Runtime has no CUDA provider (has "
                            + OrtEnvironment.getAvailableProviders() + "); build with 'mvn -Pgpu' (onnxruntime_gpu)");
                }
                so.addCUDA(options.cudaDevice());
            }
            OrtSession session = env.createSession(family.path(spec).toString(), so);
            return new OnnxModel(spec, session);
        } catch (OrtException e) {
            String hint = options.executionProvider().startsWith("cuda")
                    ? " (the CUDA provider of onnxruntime_gpu needs CUDA 12 and cuDNN 9 libraries on the library path)" : "";
            throw new IllegalStateException("cannot load model '" + spec.name() + "' with execution provider '"
                    + options.executionProvider() + "': " + e.getMessage() + hint, e);
        }
    }

    public ModelEntry spec() {
        return spec;
    }

    /**
     * Runs one batch of a model whose dimensions are all fixed but the batch: {@link #run(List, List)}
     * with the declared shapes.
     */
    public List<ByteBuffer> run(List<ByteBuffer> inputs, long batch) throws OrtException {
        List<long[]> shapes = new ArrayList<>(spec.inputs().size());
        for (TensorSpec t : spec.inputs()) {
            shapes.add(t.withBatch(batch));
        }
        return run(inputs, shapes);
    }

    /**
     * Runs one batch. {@code inputs} holds one buffer per manifest input, in manifest order, of
     * the concrete {@code shapes} (batch first; the size symbols bound); direct native-order
     * buffers are passed to the runtime without a copy. Returns one little-endian buffer per
     * manifest output, in manifest order.
     */
    public List<ByteBuffer> run(List<ByteBuffer> inputs, List<long[]> shapes) throws OrtException {
        if (inputs.size() != spec.inputs().size() || shapes.size() != inputs.size()) {
            throw new IllegalArgumentException("model '" + spec.name() + "' takes " + spec.inputs().size()
                    + " inputs, got " + inputs.size());
        }
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        Map<String, OnnxTensor> feed = new HashMap<>();
        try {
            for (int i = 0; i < inputs.size(); i++) {
                TensorSpec t = spec.inputs().get(i);
                ByteBuffer b = inputs.get(i);
                long[] shape = shapes.get(i);
                long want = shape[0] * TensorSpec.sampleElements(shape) * t.dtype().bytes();
                if (b.remaining() != want) {
                    throw new IllegalArgumentException("input '" + t.name() + "' holds " + b.remaining()
                            + " bytes; shape " + java.util.Arrays.toString(shape) + " needs " + want);
                }
                feed.put(t.name(), OnnxTensor.createTensor(env, b.order(ByteOrder.nativeOrder()), shape, inputTypes[i]));
            }
            try (OrtSession.Result result = session.run(feed)) {
                List<ByteBuffer> out = new ArrayList<>(spec.outputs().size());
                for (TensorSpec t : spec.outputs()) {
                    OnnxTensor o = (OnnxTensor) result.get(t.name()).orElseThrow(() ->
                            new IllegalStateException("model '" + spec.name() + "' returned no '" + t.name() + "'"));
                    out.add(o.getByteBuffer().order(ByteOrder.LITTLE_ENDIAN));
                }
                return out;
            }
        } finally {
            feed.values().forEach(OnnxTensor::close);
        }
    }

    /** Convenience for in-process callers of fixed-shape models: float inputs in, float outputs out. */
    public List<float[]> runFloats(List<float[]> inputs, long batch) throws OrtException {
        List<long[]> shapes = new ArrayList<>(spec.inputs().size());
        for (TensorSpec t : spec.inputs()) {
            shapes.add(t.withBatch(batch));
        }
        return runFloats(inputs, shapes);
    }

    /**
     * Float inputs in (converted to each input's declared floating type), float outputs out
     * (widened from each output's type), for the concrete input {@code shapes}.
     */
    public List<float[]> runFloats(List<float[]> inputs, List<long[]> shapes) throws OrtException {
        List<ByteBuffer> in = new ArrayList<>(inputs.size());
        for (int i = 0; i < inputs.size(); i++) {
            in.add(Tensors.direct(inputs.get(i), spec.inputs().get(i).dtype()));
        }
        List<ByteBuffer> out = run(in, shapes);
        List<float[]> res = new ArrayList<>(out.size());
        for (int o = 0; o < out.size(); o++) {
            res.add(Tensors.floats(out.get(o), spec.outputs().get(o).dtype()));
        }
        return res;
    }

    @Override
    public void close() {
        try {
            session.close();
        } catch (OrtException e) {
            throw new IllegalStateException("closing model '" + spec.name() + "': " + e.getMessage(), e);
        }
    }
}
