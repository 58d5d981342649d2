package dev.flowblend.worker;

import io.grpc.Status;

/** A request the worker refuses; carries the status chosen where the problem was found. */
final class InferException extends Exception {
    private static final long serialVersionUID = 1L;
    private final Status.Code code;

    InferException(Status.Code code, String message) {
        super(message, null, false, false);
        this.code = code;
    }

    static InferException invalid(String message) {
        return new InferException(Status.Code.INVALID_ARGUMENT, message);
    }

    Status status() {
        return Status.fromCode(code).withDescription(getMessage());
    }

    Status.Code code() {
        return code;
    }
}
