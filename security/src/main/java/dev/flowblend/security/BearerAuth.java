package dev.flowblend.security;

import dev.flowblend.telemetry.Event;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.util.Optional;
import java.util.logging.Logger;

/**
 * Client authentication by bearer token ({@code authorization: Bearer <token>}, as OAuth 2 and
 * KServe clients send it). A call without a token, or with one the {@link Tokens} do not accept,
 * ends UNAUTHENTICATED before its handler runs; an accepted call runs with its {@link Principal}
 * in the context ({@link #principal()}). Installed on the services that need it, not on health.
 *
 * <p>Thread-safe.
 */
public final class BearerAuth implements ServerInterceptor {
    private static final Logger LOG = Logger.getLogger(BearerAuth.class.getName());
    /** The header both sides use; the scheme is matched without regard to case (RFC 7235). */
    public static final Metadata.Key<String> AUTHORIZATION =
            Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
    public static final String SCHEME = "Bearer ";
    private static final Context.Key<Principal> PRINCIPAL = Context.key("flowblend-principal");

    private final Tokens tokens;

    public BearerAuth(Tokens tokens) {
        this.tokens = tokens;
    }

    /** The calling principal; {@link Principal#ANONYMOUS} where client authentication is not configured. */
    public static Principal principal() {
        Principal p = PRINCIPAL.get();
        return p == null ? Principal.ANONYMOUS : p;
    }

    /** The header value a client sends for {@code token}. */
    public static String header(String token) {
        return SCHEME + token;
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                                                      ServerCallHandler<Q, R> next) {
        String value = headers.get(AUTHORIZATION);
        String method = call.getMethodDescriptor().getFullMethodName();
        if (value == null || value.length() <= SCHEME.length()
                || !value.regionMatches(true, 0, SCHEME, 0, SCHEME.length())) {
            return refuse(call, method, value == null ? "missing" : "malformed",
                    "this orchestrator requires a bearer token: send the header 'authorization: Bearer <token>'");
        }
        Optional<Principal> p = tokens.authenticate(value.substring(SCHEME.length()).trim());
        if (p.isEmpty()) {
            return refuse(call, method, "unknown", "the bearer token is not accepted (unknown or revoked)");
        }
        return Contexts.interceptCall(Context.current().withValue(PRINCIPAL, p.get()), call, headers, next);
    }

    private static <Q, R> ServerCall.Listener<Q> refuse(ServerCall<Q, R> call, String method, String why,
                                                         String description) {
        LOG.info(Event.of("call_unauthenticated").with("method", method).with("token", why).toString());
        call.close(Status.UNAUTHENTICATED.withDescription(description), new Metadata());
        return new ServerCall.Listener<>() { };
    }
}
