package dev.flowblend.runtime;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * flowblend's additions to the Open Inference Protocol, spelled once for the workers that answer
 * and the orchestrator that asks: request and response parameter names, the trailer key of a
 * conditioning-cache miss, and how a conditioning id is derived from the bytes it names. All of
 * them travel in places a stock OIP peer ignores ({@code parameters}, trailers). Stateless.
 */
public final class Wire {
    /** Request parameter: the id of the conditioning ("context" input) the request refers to. */
    public static final String CONTEXT_ID = "context_id";
    /** Response parameters: who answered, the merged batch's size, the request's queue and model time. */
    public static final String WORKER_ID = "worker_id";
    public static final String BATCH_SIZE = "batch_size";
    public static final String QUEUE_MICROS = "queue_us";
    public static final String COMPUTE_MICROS = "compute_us";
    /** Parameters of a refused request's in-band answer on a ModelStreamInfer stream. */
    public static final String ERROR_CODE = "error_code";
    public static final String CONTEXT_MISS = "context_miss";
    /**
     * ServerMetadata extension of workers with flowblend's conditioning cache: they take
     * {@link #CONTEXT_ID} in place of the context input. A server without it (any stock Open
     * Inference Protocol server) gets every declared input on every call and none of our parameters.
     */
    public static final String CONTEXT_CACHE_EXTENSION = "flowblend-context-cache";
    /** ServerMetadata extension of workers that merge concurrent requests into batches. */
    public static final String BATCHING_EXTENSION = "flowblend-dynamic-batching";
    /**
     * Request parameter (double): apply classifier-free guidance on the worker. The latent and
     * timestep of each sample are sent once, the context as a [cond.., uncond..] pair per sample,
     * and the answer is one guided velocity per sample ({@link Guidance}): half the bytes each way.
     * Only to workers whose ServerMetadata lists {@link #GUIDANCE_EXTENSION}.
     */
    public static final String GUIDANCE_SCALE = "guidance_scale";
    /** ServerMetadata extension of workers that take {@link #GUIDANCE_SCALE}. */
    public static final String GUIDANCE_EXTENSION = "flowblend-guidance";
    /** The text encoder's inputs: token ids, int64 [B, text.max_tokens] (every text encoder takes it). */
    public static final String INPUT_IDS = "input_ids";
    /**
     * The text encoder's optional attention mask, int64 [B, text.max_tokens], 1 for a prompt's
     * tokens and 0 for padding; sent only to a text encoder whose manifest entry declares it.
     */
    public static final String ATTENTION_MASK = "attention_mask";
    /** Trailer of a unary call refused because its context_id is not cached; the value is the id. */
    public static final String CONTEXT_MISS_TRAILER = "flowblend-context-miss";

    private Wire() {
    }

    /**
     * The conditioning id of a context tensor: "ctx-" and the first 16 bytes of the SHA-256 of its
     * little-endian bytes, in hex. Content-addressed, so a worker can check that an id names the
     * bytes sent with it and no caller can store one prompt's context under another's id.
     */
    public static String contextId(ByteBuffer littleEndianBytes) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update(littleEndianBytes.duplicate());
            return "ctx-" + HexFormat.of().formatHex(sha.digest(), 0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every JVM", e);
        }
    }
}
