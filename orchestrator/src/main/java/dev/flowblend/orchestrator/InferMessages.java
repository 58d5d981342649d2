package dev.flowblend.orchestrator;

import com.google.protobuf.ByteString;
import dev.flowblend.proto.inference.InferParameter;
import dev.flowblend.proto.inference.ModelInferRequest;
import dev.flowblend.proto.inference.ModelInferResponse;
import dev.flowblend.runtime.DType;
import dev.flowblend.runtime.Guidance;
import dev.flowblend.runtime.ModelEntry;
import dev.flowblend.runtime.TensorSpec;
import dev.flowblend.runtime.Tensors;
import dev.flowblend.runtime.Wire;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Map;

/**
 * The Open Inference Protocol messages of {@link RemoteBackend}: velocity requests in both guided
 * forms, input headers with the size symbols bound, and the reading of answers (widening, the
 * guidance of both-branch answers, the worker's reported timings). The context input is left to
 * {@link ModelCall}, which adds it per endpoint where it is not cached. Stateless.
 */
final class InferMessages {
    private InferMessages() {
    }

    static ModelInferRequest.Builder request(String model) {
        return ModelInferRequest.newBuilder().setModelName(model);
    }

    /**
     * A velocity request for {@code batch} samples: the latent and timesteps in each input's wire
     * type (the maps hold one encoding per type) and the context's id; no context tensor yet.
     */
    /**
     * The same step for a worker that applies guidance itself: the latent and timesteps of
     * {@code samples} samples once, with {@link Wire#GUIDANCE_SCALE}.
     */
    static ModelInferRequest.Builder guided(ModelEntry model, String contextId, Map<DType, ByteString> latent,
                                            Map<DType, ByteString> timesteps, int samples, Map<String, Long> binding,
                                            float guidance) throws BackendException {
        return velocity(model, contextId, latent, timesteps, samples, binding)
                .putParameters(Wire.GUIDANCE_SCALE, InferParameter.newBuilder().setDoubleParam(guidance).build());
    }

    /**
     * A velocity request for {@code batch} samples: the latent and timesteps in each input's wire
     * type (the maps hold one encoding per type) and the context's id; no context tensor yet.
     */
    static ModelInferRequest.Builder velocity(ModelEntry model, String contextId, Map<DType, ByteString> latent,
                                              Map<DType, ByteString> timesteps, int batch, Map<String, Long> binding)
            throws BackendException {
        ModelInferRequest.Builder req = request(model.name())
                .putParameters(Wire.CONTEXT_ID, InferParameter.newBuilder().setStringParam(contextId).build());
        for (TensorSpec t : model.inputs()) {
            switch (t.name()) {
                case "latent" -> req.addInputs(input(t, batch, binding)).addRawInputContents(latent.get(t.dtype()));
                case "timestep" -> req.addInputs(input(t, batch, binding)).addRawInputContents(timesteps.get(t.dtype()));
                case "context" -> { } // added per endpoint: only where it is not cached yet
                default -> throw new BackendException(BackendException.Kind.INTERNAL, "model '" + model.name()
                        + "' has input '" + t.name() + "' that flowblend does not know how to fill");
            }
        }
        return req;
    }

    /**
     * The velocity of a reply whose first output is of type {@code out}. A guided step
     * ({@code samples} > 0) answered with both branches (a worker that does not apply guidance)
     * is combined here with {@code guidance}, as it is read.
     */
    static Backend.Velocity velocity(ModelCall.Reply r, DType out, int samples, float guidance) throws BackendException {
        float[] v;
        if (samples > 0 && !r.guided()) {
            ByteBuffer both = output(r.response());
            v = Guidance.combine(both, out, samples, both.remaining() / out.bytes() / (2 * samples), guidance);
        } else {
            v = floats(r.response(), out);
        }
        return new Backend.Velocity(v, r.worker(), millis(r.response(), Wire.QUEUE_MICROS),
                millis(r.response(), Wire.COMPUTE_MICROS));
    }

    static ModelInferRequest.InferInputTensor input(TensorSpec t, int batch) {
        return input(t, batch, Map.of());
    }

    /** The input's header for {@code batch} samples, its size symbols bound by {@code binding}. */
    static ModelInferRequest.InferInputTensor input(TensorSpec t, int batch, Map<String, Long> binding) {
        ModelInferRequest.InferInputTensor.Builder b = ModelInferRequest.InferInputTensor.newBuilder()
                .setName(t.name()).setDatatype(t.dtype().wireName());
        for (long d : t.withBatch(batch, binding)) {
            b.addShape(d);
        }
        return b.build();
    }

    /** A worker-reported duration; 0 when the worker does not report it (e.g. a stock OIP server). */
    private static double millis(ModelInferResponse r, String parameter) {
        InferParameter p = r.getParametersMap().get(parameter);
        return p == null ? 0 : p.getInt64Param() / 1e3;
    }

    /** The first output, widened from {@code type} to floats. */
    static float[] floats(ModelInferResponse r, DType type) throws BackendException {
        return Tensors.floats(output(r), type);
    }

    /** The first output's bytes, little-endian. */
    private static ByteBuffer output(ModelInferResponse r) throws BackendException {
        if (r.getRawOutputContentsCount() < 1) {
            throw new BackendException(BackendException.Kind.INTERNAL, "worker returned no raw_output_contents");
        }
        return r.getRawOutputContents(0).asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
    }
}
