package dev.flowblend.cli;

import io.grpc.ForwardingServerCall;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerStreamTracer;
import io.grpc.Status;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * What one server moved for one method, as gRPC reports it to stream tracers: the wire size of
 * every message read and written (the protobuf-encoded message, uncompressed here; neither the
 * 5-byte gRPC message prefix nor HTTP/2 frame headers are in it), and how many calls of another
 * method ({@code closedMethod}) have ended OK. Installed on a server builder as a stream tracer
 * factory and, to keep the last message each way, as an interceptor ({@link #interceptor}).
 * Thread-safe: counters are atomics, updated on transport
 * and batcher threads and read by the benchmark between steps.
 */
final class WireCounter extends ServerStreamTracer.Factory {
    private final String method;
    private final String closedMethod;
    private final AtomicLong inbound = new AtomicLong();
    private final AtomicLong outbound = new AtomicLong();
    private final AtomicLong closedOk = new AtomicLong();
    private final AtomicReference<Object> lastIn = new AtomicReference<>();
    private final AtomicReference<Object> lastOut = new AtomicReference<>();

    /**
     * @param method       full method name whose message bytes are counted
     * @param closedMethod full method name whose OK completions are counted (null: none)
     */
    WireCounter(String method, String closedMethod) {
        this.method = method;
        this.closedMethod = closedMethod;
    }

    /** Message bytes read so far on {@code method}. */
    long inbound() {
        return inbound.get();
    }

    /** Message bytes written so far on {@code method}. */
    long outbound() {
        return outbound.get();
    }

    /** Calls of {@code closedMethod} that ended OK so far. */
    long closedOk() {
        return closedOk.get();
    }

    /** The last message read on {@code method} (null before the first); held, not copied. */
    Object lastInbound() {
        return lastIn.get();
    }

    /** The last message written on {@code method}. */
    Object lastOutbound() {
        return lastOut.get();
    }

    @Override
    public ServerStreamTracer newServerStreamTracer(String fullMethodName, Metadata headers) {
        if (fullMethodName.equals(method)) {
            return new ServerStreamTracer() {
                @Override
                public void inboundWireSize(long bytes) {
                    inbound.addAndGet(bytes);
                }

                @Override
                public void outboundWireSize(long bytes) {
                    outbound.addAndGet(bytes);
                }
            };
        }
        if (fullMethodName.equals(closedMethod)) {
            return new ServerStreamTracer() {
                @Override
                public void streamClosed(Status status) {
                    if (status.isOk()) {
                        closedOk.incrementAndGet();
                    }
                }
            };
        }
        return new ServerStreamTracer() {
        };
    }

    /** Keeps a reference to the last message each way on {@code method} (for replaying its bytes). */
    ServerInterceptor interceptor() {
        return new ServerInterceptor() {
            @Override
            public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                                                                ServerCallHandler<Q, R> next) {
                if (!call.getMethodDescriptor().getFullMethodName().equals(method)) {
                    return next.startCall(call, headers);
                }
                ServerCall<Q, R> keeping = new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
                    @Override
                    public void sendMessage(R message) {
                        lastOut.set(message);
                        super.sendMessage(message);
                    }
                };
                return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(
                        next.startCall(keeping, headers)) {
                    @Override
                    public void onMessage(Q message) {
                        lastIn.set(message);
                        super.onMessage(message);
                    }
                };
            }
        };
    }
}
