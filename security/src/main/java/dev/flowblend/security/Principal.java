package dev.flowblend.security;

/**
 * Who a client call is from, once its bearer token was accepted: the token's name and its own
 * admission limits (0: no limit of its own; the orchestrator's limits still apply). Immutable.
 */
public record Principal(String name, int maxRunning, int maxQueued) {
    /** Every call when client authentication is not configured. */
    public static final Principal ANONYMOUS = new Principal("anonymous", 0, 0);
}
