package dev.flowblend.orchestrator;

/**
 * A model call that failed. {@link Kind} is what the edge maps to a gRPC status: UNAVAILABLE is
 * retryable, CANCELLED/DEADLINE report the caller's own stop, INTERNAL is a bug or a model failure.
 */
public final class BackendException extends Exception {
    private static final long serialVersionUID = 1L;

    /** FAILED_PRECONDITION: a model produced a non-finite output; the step cannot go on from it. */
    public enum Kind { UNAVAILABLE, RESOURCE_EXHAUSTED, CANCELLED, DEADLINE_EXCEEDED, INVALID_ARGUMENT, FAILED_PRECONDITION,
        INTERNAL }

    private final Kind kind;

    public BackendException(Kind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
    }

    public BackendException(Kind kind, String message) {
        this(kind, message, null);
    }

    public Kind kind() {
        return kind;
    }
}
