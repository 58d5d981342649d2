package dev.flowblend.proto;

import io.grpc.ForwardingServerCall;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.ServiceDescriptor;
import io.grpc.Status;
import java.io.InputStream;

/**
 * Request bytes that do not parse as the method's request message (malformed protobuf, invalid
 * UTF-8 in a string field) are the client's mistake: the call ends INVALID_ARGUMENT, "request is
 * not a valid GenerateRequest: ...". Without this grpc-java ends such a call UNKNOWN ("Application
 * error processing RPC"), whatever the marshaller throws.
 *
 * <p>{@link #guard} wraps every method of a service: its request marshaller never throws but
 * hands a parse failure on as a value, and the call handler closes the call with
 * INVALID_ARGUMENT when one arrives. The service sees a malformed request as a client cancel
 * (its request observer's onError, its cancel handler); calls on the closed call are dropped.
 */
public final class RequestParsing {
    private RequestParsing() {
    }

    /** What a request marshaller returns for bytes that are not a valid request. */
    private record Malformed(String reason) {
    }

    /** {@code service} with every method's request parse failures ending INVALID_ARGUMENT. */
    public static ServerServiceDefinition guard(io.grpc.BindableService service) {
        return guard(service.bindService());
    }

    /** {@code service} with every method's request parse failures ending INVALID_ARGUMENT. */
    public static ServerServiceDefinition guard(ServerServiceDefinition service) {
        ServiceDescriptor original = service.getServiceDescriptor();
        // the same schema, so that server reflection still describes the service
        ServiceDescriptor.Builder d = ServiceDescriptor.newBuilder(original.getName())
                .setSchemaDescriptor(original.getSchemaDescriptor());
        java.util.List<ServerMethodDefinition<Object, ?>> methods = new java.util.ArrayList<>();
        for (ServerMethodDefinition<?, ?> m : service.getMethods()) {
            ServerMethodDefinition<Object, ?> g = guardMethod(m);
            methods.add(g);
            d.addMethod(g.getMethodDescriptor());
        }
        ServerServiceDefinition.Builder b = ServerServiceDefinition.builder(d.build());
        methods.forEach(b::addMethod);
        return b.build();
    }

    private static <ReqT, RespT> ServerMethodDefinition<Object, RespT> guardMethod(ServerMethodDefinition<ReqT, RespT> m) {
        MethodDescriptor<ReqT, RespT> original = m.getMethodDescriptor();
        MethodDescriptor<Object, RespT> guarded = original.toBuilder(new TolerantMarshaller<>(
                original.getRequestMarshaller(), requestName(original)), original.getResponseMarshaller()).build();
        return ServerMethodDefinition.create(guarded, new Handler<>(original, m.getServerCallHandler()));
    }

    private static String requestName(MethodDescriptor<?, ?> method) {
        if (method.getRequestMarshaller() instanceof MethodDescriptor.PrototypeMarshaller<?> p
                && p.getMessagePrototype() instanceof com.google.protobuf.MessageLite msg) {
            String full = msg.getClass().getName();
            return full.substring(full.lastIndexOf('.') + 1).replace('$', '.');
        }
        return "request of " + method.getFullMethodName();
    }

    /** Parses with the method's own marshaller; a failure becomes a {@link Malformed} value. */
    private record TolerantMarshaller<T>(MethodDescriptor.Marshaller<T> delegate, String name)
            implements MethodDescriptor.Marshaller<Object> {
        @Override
        @SuppressWarnings("unchecked")
        public InputStream stream(Object value) {
            return delegate.stream((T) value);
        }

        @Override
        public Object parse(InputStream stream) {
            try {
                return delegate.parse(stream);
            } catch (RuntimeException e) {
                Throwable why = e.getCause() != null ? e.getCause() : e;
                String detail = why.getMessage() == null ? why.getClass().getSimpleName() : why.getMessage();
                return new Malformed("request is not a valid " + name + ": " + detail);
            }
        }
    }

    private record Handler<ReqT, RespT>(MethodDescriptor<ReqT, RespT> original, ServerCallHandler<ReqT, RespT> delegate)
            implements ServerCallHandler<Object, RespT> {
        @Override
        public ServerCall.Listener<Object> startCall(ServerCall<Object, RespT> call, Metadata headers) {
            GuardedCall<ReqT, RespT> view = new GuardedCall<>(call, original);
            ServerCall.Listener<ReqT> app = delegate.startCall(view, headers);
            return new ServerCall.Listener<>() {
                @Override
                @SuppressWarnings("unchecked")
                public void onMessage(Object message) {
                    if (view.refused()) {
                        return;
                    }
                    if (message instanceof Malformed m) {
                        if (view.refuse(m.reason())) {
                            app.onCancel();
                        }
                        return;
                    }
                    app.onMessage((ReqT) message);
                }

                @Override
                public void onHalfClose() {
                    if (!view.refused()) {
                        app.onHalfClose();
                    }
                }

                @Override
                public void onCancel() {
                    if (!view.refused()) {
                        app.onCancel();
                    }
                }

                @Override
                public void onComplete() {
                    if (!view.refused()) {
                        app.onComplete();
                    }
                }

                @Override
                public void onReady() {
                    if (!view.refused()) {
                        app.onReady();
                    }
                }
            };
        }
    }

    /**
     * The call as the service sees it: its own request type, and once the guard has refused the
     * call, the service's sends and close are dropped. Serialized, as the guard's close may come
     * from a transport thread while the service answers from another.
     */
    private static final class GuardedCall<ReqT, RespT> extends ForwardingServerCall<ReqT, RespT> {
        private final ServerCall<Object, RespT> call;
        private final MethodDescriptor<ReqT, RespT> method;
        private boolean refused;

        GuardedCall(ServerCall<Object, RespT> call, MethodDescriptor<ReqT, RespT> method) {
            this.call = call;
            this.method = method;
        }

        @Override
        @SuppressWarnings("unchecked")
        protected ServerCall<ReqT, RespT> delegate() {
            return (ServerCall<ReqT, RespT>) (ServerCall<?, RespT>) call;
        }

        @Override
        public MethodDescriptor<ReqT, RespT> getMethodDescriptor() {
            return method;
        }

        synchronized boolean refused() {
            return refused;
        }

        /** Closes the call INVALID_ARGUMENT; false if the service had closed it already. */
        synchronized boolean refuse(String reason) {
            if (refused) {
                return false;
            }
            try {
                call.close(Status.INVALID_ARGUMENT.withDescription(reason), new Metadata());
            } catch (IllegalStateException closedAlready) {
                return false;  // the service answered first; the malformed message is dropped
            }
            refused = true;
            return true;
        }

        @Override
        public synchronized void sendHeaders(Metadata headers) {
            if (!refused) {
                call.sendHeaders(headers);
            }
        }

        @Override
        public synchronized void sendMessage(RespT message) {
            if (!refused) {
                call.sendMessage(message);
            }
        }

        @Override
        public synchronized void close(Status status, Metadata trailers) {
            if (!refused) {
                call.close(status, trailers);
            }
        }

        @Override
        public synchronized boolean isReady() {
            return !refused && call.isReady();
        }

        @Override
        public synchronized boolean isCancelled() {
            return refused || call.isCancelled();
        }
    }
}
