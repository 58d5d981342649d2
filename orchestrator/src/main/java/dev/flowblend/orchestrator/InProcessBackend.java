package dev.flowblend.orchestrator;

import dev.flowblend.runtime.ModelEntry;
import dev.flowblend.runtime.ModelFamily;
import dev.flowblend.runtime.OnnxModel;
import dev.flowblend.runtime.RuntimeOptions;
import dev.flowblend.runtime.TensorSpec;
import dev.flowblend.runtime.Tensors;
import dev.flowblend.runtime.VideoSize;
import dev.flowblend.runtime.Wire;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * Every model in this process, no RPC: the reference the gRPC path is compared against, and the
 * engine of benchmarks and evaluation tools. Thread-safe (ONNX sessions are). Owns its sessions.
 */
public final class InProcessBackend implements Backend {
    private final Map<String, OnnxModel> byPool = new HashMap<>();
    private final Map<String, String> poolModels = new LinkedHashMap<>();
    private final List<OnnxModel> owned = new ArrayList<>();
    private final OnnxModel textEncoder;
    private final OnnxModel decoder;
    private final ModelFamily family;

    /** @param poolModels pool name to velocity model name (e.g. large to velocity-large) */
    public InProcessBackend(ModelFamily family, Map<String, String> poolModels, RuntimeOptions options) {
        this.family = family;
        Map<String, OnnxModel> byModel = new HashMap<>();
        try {
            for (Map.Entry<String, String> e : poolModels.entrySet()) {
                OnnxModel m = byModel.computeIfAbsent(e.getValue(), name -> load(family, name, options));
                byPool.put(e.getKey(), m);
                this.poolModels.put(e.getKey(), e.getValue());
            }
            textEncoder = load(family, family.byRole(ModelFamily.ROLE_TEXT_ENCODER).name(), options);
            decoder = load(family, family.byRole(ModelFamily.ROLE_DECODER).name(), options);
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /** The family's two velocity models as pools "large" and "small". */
    public static InProcessBackend largeSmall(ModelFamily family, RuntimeOptions options) {
        Map<String, String> pools = new LinkedHashMap<>();
        pools.put(StagePlan.LARGE, family.byRole(ModelFamily.ROLE_VELOCITY_LARGE).name());
        pools.put(StagePlan.SMALL, family.byRole(ModelFamily.ROLE_VELOCITY_SMALL).name());
        return new InProcessBackend(family, pools, options);
    }

    private OnnxModel load(ModelFamily family, String name, RuntimeOptions options) {
        ModelEntry entry = family.byName(name).orElseThrow(() ->
                new IllegalArgumentException("model '" + name + "' is not in the family's manifest"));
        OnnxModel m = OnnxModel.load(family, entry, options);
        owned.add(m);
        return m;
    }

    /** The ids, and the mask where the encoder declares an attention_mask input. */
    @Override
    public float[] encodeText(long[] tokenIds, long[] mask, int batch) throws BackendException {
        List<java.nio.ByteBuffer> in = new ArrayList<>();
        for (TensorSpec t : textEncoder.spec().inputs()) {
            if (t.name().equals(Wire.ATTENTION_MASK) && mask == null) {
                throw new BackendException(BackendException.Kind.INTERNAL, "text encoder '" + textEncoder.spec().name()
                        + "' takes '" + Wire.ATTENTION_MASK + "' but no mask was given");
            }
            in.add(Tensors.direct(t.name().equals(Wire.ATTENTION_MASK) ? mask : tokenIds));
        }
        try {
            return Tensors.floats(textEncoder.run(in, batch).get(0), textEncoder.spec().outputs().get(0).dtype());
        } catch (Exception e) {
            throw new BackendException(BackendException.Kind.INTERNAL, "text encoder failed: " + e, e);
        }
    }

    @Override
    public CompletableFuture<Velocity> velocityAsync(String pool, float[] latent, float[] timesteps,
                                                     Conditioning conditioning, int batch) {
        return velocityAsync(pool, latent, timesteps, conditioning, batch, null);
    }

    /** Runs the model on the calling thread: the future is complete when this returns. */
    @Override
    public CompletableFuture<Velocity> velocityAsync(String pool, float[] latent, float[] timesteps,
                                                     Conditioning conditioning, int batch, VideoSize size) {
        OnnxModel m = byPool.get(pool);
        if (m == null) {
            return CompletableFuture.failedFuture(new BackendException(BackendException.Kind.INVALID_ARGUMENT,
                    "no pool named '" + pool + "'"));
        }
        try {
            long t0 = System.nanoTime();
            Map<String, Long> binding = binding(size);
            List<float[]> in = new ArrayList<>();
            List<long[]> shapes = new ArrayList<>();
            for (TensorSpec t : m.spec().inputs()) {
                in.add(switch (t.name()) {
                    case "latent" -> latent;
                    case "timestep" -> timesteps;
                    case "context" -> conditioning.context();
                    default -> throw new IllegalArgumentException("model '" + m.spec().name() + "' has input '"
                            + t.name() + "' that flowblend does not know how to fill");
                });
                shapes.add(t.withBatch(batch, binding));
            }
            float[] v = m.runFloats(in, shapes).get(0);
            return CompletableFuture.completedFuture(new Velocity(v, "in-process", 0, (System.nanoTime() - t0) / 1e6));
        } catch (Exception e) {
            return CompletableFuture.failedFuture(new BackendException(BackendException.Kind.INTERNAL,
                    "model '" + m.spec().name() + "' failed: " + e, e));
        }
    }

    @Override
    public float[] decode(float[] latent, int batch) throws BackendException {
        return decodeHosted(latent, batch, null).values();
    }

    @Override
    public Hosted decodeHosted(float[] latent, int batch) throws BackendException {
        return decodeHosted(latent, batch, null);
    }

    @Override
    public Hosted decodeHosted(float[] latent, int batch, VideoSize size) throws BackendException {
        try {
            long[] shape = decoder.spec().inputs().get(0).withBatch(batch, binding(size));
            return new Hosted(decoder.runFloats(List.of(latent), List.of(shape)).get(0), null);
        } catch (Exception e) {
            throw new BackendException(BackendException.Kind.INTERNAL, "decoder failed: " + e, e);
        }
    }

    private Map<String, Long> binding(VideoSize size) {
        return (size != null ? size : family.conventions().defaultVideoSize()).binding();
    }

    @Override
    public boolean hasPool(String pool) {
        return byPool.containsKey(pool);
    }

    @Override
    public String poolModel(String pool) {
        return poolModels.get(pool);
    }

    @Override
    public void close() {
        owned.forEach(OnnxModel::close);
        owned.clear();
    }
}
