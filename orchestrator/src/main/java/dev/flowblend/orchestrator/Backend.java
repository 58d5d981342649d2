package dev.flowblend.orchestrator;

import dev.flowblend.runtime.Guidance;
import dev.flowblend.runtime.VideoSize;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/**
 * Where model outputs come from: ONNX sessions in this process ({@link InProcessBackend}) or
 * worker pools over gRPC ({@link RemoteBackend}). Implementations are thread-safe; a call that
 * fails throws {@link BackendException} carrying a retryability-aware status choice.
 */
public interface Backend extends AutoCloseable {

    /**
     * Text contexts [batch, L, D] for token ids [batch, L] and their attention mask [batch, L] (1 for
     * tokens, 0 for padding; null: none). The mask goes to the text encoder only where its manifest
     * entry declares {@link dev.flowblend.runtime.Wire#ATTENTION_MASK}; one that declares it needs it.
     */
    float[] encodeText(long[] tokenIds, long[] mask, int batch) throws BackendException;

    /**
     * Velocity for a batch of latents; the result also names the worker that served it. The future
     * fails with a {@link BackendException}. It may complete before this returns (in-process) or
     * later on a transport thread (remote), so whatever is chained to it must be short and must not
     * block. The arrays are read before this returns; the caller may reuse them afterwards.
     */
    CompletableFuture<Velocity> velocityAsync(String pool, float[] latent, float[] timesteps,
                                              Conditioning conditioning, int batch);

    /**
     * {@link #velocityAsync} for latents of one of the family's video sizes (null: its default).
     * By default the size is ignored, which suits backends of a single size (test fakes).
     */
    default CompletableFuture<Velocity> velocityAsync(String pool, float[] latent, float[] timesteps,
                                                      Conditioning conditioning, int batch, VideoSize size) {
        return velocityAsync(pool, latent, timesteps, conditioning, batch);
    }

    /**
     * The guided velocity of {@code samples} latents ({@code latent}: samples × n values, sent once;
     * {@code timesteps}: one per sample): with guidance ({@code conditioning} holds [cond.., uncond..],
     * twice {@code samples}) v_u + g (v_c - v_u) per value ({@link Guidance}), else the conditional
     * velocity. By default both branches go through {@link #velocityAsync} as one batch [x, x] and
     * are combined here; a backend whose workers apply guidance themselves sends the latent once.
     * Completes as {@link #velocityAsync} does; the arrays are read before this returns.
     */
    default CompletableFuture<Velocity> guidedVelocityAsync(String pool, float[] latent, float[] timesteps,
                                                            Conditioning conditioning, int samples, float guidance,
                                                            VideoSize size) {
        if (conditioning.batch() == samples) {
            return velocityAsync(pool, latent, timesteps, conditioning, samples, size);
        }
        int total = latent.length;
        float[] both = new float[2 * total];
        System.arraycopy(latent, 0, both, 0, total);
        System.arraycopy(latent, 0, both, total, total);
        float[] t = new float[2 * samples];
        System.arraycopy(timesteps, 0, t, 0, samples);
        System.arraycopy(timesteps, 0, t, samples, samples);
        return velocityAsync(pool, both, t, conditioning, 2 * samples, size).thenApply(v -> v.withValues(
                Guidance.combine(v.values(), samples, total / samples, guidance)));
    }

    /** {@link #velocityAsync}, waiting for the result. */
    default Velocity velocity(String pool, float[] latent, float[] timesteps, Conditioning conditioning, int batch)
            throws BackendException {
        return await(velocityAsync(pool, latent, timesteps, conditioning, batch));
    }

    /** Decoded video [batch, F, H, W, 3] in [0, 1]. */
    float[] decode(float[] latent, int batch) throws BackendException;

    /** {@link #encodeText}, and the pool that ran the encoder (null by default: no pools, e.g. in-process). */
    default Hosted encodeTextHosted(long[] tokenIds, long[] mask, int batch) throws BackendException {
        return new Hosted(encodeText(tokenIds, mask, batch), null);
    }

    /** {@link #decode}, and the pool that ran the decoder (null by default). */
    default Hosted decodeHosted(float[] latent, int batch) throws BackendException {
        return new Hosted(decode(latent, batch), null);
    }

    /** {@link #decodeHosted} of latents of one video size (null: the default); by default the size is ignored. */
    default Hosted decodeHosted(float[] latent, int batch, VideoSize size) throws BackendException {
        return decodeHosted(latent, batch);
    }

    /** Whether this backend can serve the named pool. */
    boolean hasPool(String pool);

    /** The velocity model name a pool serves (for FLOP accounting). */
    String poolModel(String pool);

    @Override
    void close();

    /** Waits for a backend future; its failure comes back as the {@link BackendException} it carries. */
    static <T> T await(CompletableFuture<T> future) throws BackendException {
        try {
            return future.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new BackendException(BackendException.Kind.CANCELLED, "interrupted while waiting for a model", e);
        } catch (ExecutionException e) {
            throw unwrap(e.getCause());
        }
    }

    /** The BackendException behind a future's failure; anything else is a bug, reported as INTERNAL. */
    static BackendException unwrap(Throwable t) {
        Throwable c = t instanceof CompletionException && t.getCause() != null ? t.getCause() : t;
        return c instanceof BackendException b ? b
                : new BackendException(BackendException.Kind.INTERNAL, "model call failed: " + c, c);
    }

    /**
     * A velocity result, the worker that served it, and that worker's account of the call: how
     * long the request waited for the model and how long the model ran (its whole merged batch).
     * In-process there is no queue, and compute is the model call. {@code pool} is the pool that
     * ran it (null: the one asked for); when that is another pool than the one asked for (its
     * fallback), {@code fallbackReason} says why (one of {@link Fallbacks}' reasons), else null.
     */
    record Velocity(float[] values, String worker, double queueMillis, double computeMillis, String pool,
                    String fallbackReason) {
        /** Served by the pool asked for. */
        public Velocity(float[] values, String worker, double queueMillis, double computeMillis) {
            this(values, worker, queueMillis, computeMillis, null, null);
        }

        Velocity servedBy(String servedPool, String reason) {
            return new Velocity(values, worker, queueMillis, computeMillis, servedPool, reason);
        }

        Velocity withValues(float[] v) {
            return new Velocity(v, worker, queueMillis, computeMillis, pool, fallbackReason);
        }
    }

    /** A text encoder or decoder output and the pool that ran it (null: no pools, e.g. in-process). */
    record Hosted(float[] values, String pool) {
    }
}
