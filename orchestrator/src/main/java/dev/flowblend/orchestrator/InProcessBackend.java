package dev.flowblend.orchestrator;

import dev.flowblend.runtime.ModelEntry;
import dev.flowblend.runtime.ModelFamily;
import dev.flowblend.runtime.OnnxModel;
import dev.flowblend.runtime.RuntimeOptions;
import dev.flowblend.runtime.Tensors;
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

    /** @param poolModels pool name to velocity model name (e.g. large to velocity-large) */
    public InProcessBackend(ModelFamily family, Map<String, String> poolModels, RuntimeOptions options) {
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

    @Override
    public float[] encodeText(long[] tokenIds, int batch) throws BackendException {
        try {
            return Tensors.floats(textEncoder.run(List.of(Tensors.direct(tokenIds)), batch).get(0));
        } catch (Exception e) {
            throw new BackendException(BackendException.Kind.INTERNAL, "text encoder failed: " + e, e);
        }
    }

    /** Runs the model on the calling thread: the future is complete when this returns. */
    @Override
    public CompletableFuture<Velocity> velocityAsync(String pool, float[] latent, float[] timesteps,
                                                     Conditioning conditioning, int batch) {
        OnnxModel m = byPool.get(pool);
        if (m == null) {
            return CompletableFuture.failedFuture(new BackendException(BackendException.Kind.INVALID_ARGUMENT,
                    "no pool named '" + pool + "'"));
        }
        try {
            long t0 = System.nanoTime();
            float[] v = m.runFloats(List.of(latent, timesteps, conditioning.context()), batch).get(0);
            return CompletableFuture.completedFuture(new Velocity(v, "in-process", 0, (System.nanoTime() - t0) / 1e6));
        } catch (Exception e) {
            return CompletableFuture.failedFuture(new BackendException(BackendException.Kind.INTERNAL,
                    "model '" + m.spec().name() + "' failed: " + e, e));
        }
    }

    @Override
    public float[] decode(float[] latent, int batch) throws BackendException {
        try {
            return decoder.runFloats(List.of(latent), batch).get(0);
        } catch (Exception e) {
            throw new BackendException(BackendException.Kind.INTERNAL, "decoder failed: " + e, e);
        }
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
