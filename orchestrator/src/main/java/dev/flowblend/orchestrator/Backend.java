package dev.flowblend.orchestrator;

/**
 * Where model outputs come from: ONNX sessions in this process ({@link InProcessBackend}) or
 * worker pools over gRPC ({@link RemoteBackend}). Implementations are thread-safe; a call that
 * fails throws {@link BackendException} carrying a retryability-aware status choice.
 */
public interface Backend extends AutoCloseable {

    /** Text contexts [batch, L, D] for token ids [batch, L]. */
    float[] encodeText(long[] tokenIds, int batch) throws BackendException;

    /** Velocity for a batch of latents; the result also names the worker that served it. */
    Velocity velocity(String pool, float[] latent, float[] timesteps, Conditioning conditioning, int batch)
            throws BackendException;

    /** Decoded video [batch, F, H, W, 3] in [0, 1]. */
    float[] decode(float[] latent, int batch) throws BackendException;

    /** Whether this backend can serve the named pool. */
    boolean hasPool(String pool);

    /** The velocity model name a pool serves (for FLOP accounting). */
    String poolModel(String pool);

    @Override
    void close();

    /** A velocity result and where it came from. */
    record Velocity(float[] values, String worker) {
    }
}
