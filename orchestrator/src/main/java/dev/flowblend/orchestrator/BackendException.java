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
    private final String clientMessage;

    public BackendException(Kind kind, String message, Throwable cause) {
        this(kind, message, message, cause);
    }

    /**
     * @param clientMessage what a client may be told: no worker addresses or names (the
     *                      deployment's topology stays inside it)
     * @param detail the whole story, for the orchestrator's log
     */
    public BackendException(Kind kind, String clientMessage, String detail, Throwable cause) {
        super(detail, cause);
        this.kind = kind;
        this.clientMessage = clientMessage;
    }

    /** The message without internal topology, for the client-facing status. */
    public String clientMessage() {
        return clientMessage;
    }

    public BackendException(Kind kind, String message) {
        this(kind, message, null);
    }

    public Kind kind() {
        return kind;
    }
}
