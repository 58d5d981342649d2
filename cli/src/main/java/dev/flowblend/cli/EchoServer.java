package dev.flowblend.cli;

import com.google.common.util.concurrent.MoreExecutors;
import io.grpc.CallOptions;
import io.grpc.Drainable;
import io.grpc.KnownLength;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The transport alone, for comparison: a bare grpc-java service on one bidirectional stream whose
 * messages are byte arrays (no protobuf, no flowblend code). For each request it answers the
 * reply registered for that request's length ({@link #reply}), so a caller can replay a worker
 * request's exact bytes and get back as many bytes as the worker answered. Served like a worker
 * (Netty on loopback, direct executor, the same inbound limit); the caller's channel is the
 * orchestrator's. Thread-safe; the creator closes it.
 */
final class EchoServer implements AutoCloseable {
    static final String SERVICE = "flowblend.bench.Echo";
    static final MethodDescriptor<byte[], byte[]> STREAM = MethodDescriptor.<byte[], byte[]>newBuilder()
            .setType(MethodDescriptor.MethodType.BIDI_STREAMING)
            .setFullMethodName(MethodDescriptor.generateFullMethodName(SERVICE, "Stream"))
            .setRequestMarshaller(new Bytes()).setResponseMarshaller(new Bytes()).build();

    private final Map<Integer, byte[]> replies = new ConcurrentHashMap<>();
    private final Server server;

    /** Starts on a free loopback port; {@code counter} sees every message's wire size. */
    EchoServer(WireCounter counter, int maxMessageBytes) throws IOException {
        ServerServiceDefinition service = ServerServiceDefinition.builder(SERVICE)
                .addMethod(STREAM, ServerCalls.asyncBidiStreamingCall(out -> new StreamObserver<byte[]>() {
                    @Override
                    public void onNext(byte[] request) {
                        byte[] r = replies.get(request.length);
                        out.onNext(r != null ? r : new byte[0]);
                    }

                    @Override
                    public void onError(Throwable t) {
                    }

                    @Override
                    public void onCompleted() {
                        out.onCompleted();
                    }
                })).build();
        server = Launcher.netty(NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)))
                .directExecutor().maxInboundMessageSize(maxMessageBytes).addStreamTracerFactory(counter)
                .addService(service).build().start();
    }

    int port() {
        return server.getPort();
    }

    /** Requests of {@code requestBytes} bytes are answered with {@code replyBytes} bytes (zeros). */
    void reply(int requestBytes, int replyBytes) {
        replies.put(requestBytes, new byte[replyBytes]);
    }

    @Override
    public void close() throws InterruptedException {
        server.shutdownNow();
        server.awaitTermination(5, TimeUnit.SECONDS);
    }

    /**
     * One stream to an echo server, one request at a time. Replies are taken on the transport
     * thread that read them, as the orchestrator takes a worker's. Not thread-safe: one caller.
     */
    static final class Client implements AutoCloseable {
        private final StreamObserver<byte[]> requests;
        private volatile CompletableFuture<byte[]> pending;

        Client(ManagedChannel channel) {
            requests = ClientCalls.asyncBidiStreamingCall(
                    channel.newCall(STREAM, CallOptions.DEFAULT.withExecutor(MoreExecutors.directExecutor())),
                    new StreamObserver<>() {
                        @Override
                        public void onNext(byte[] reply) {
                            pending.complete(reply);
                        }

                        @Override
                        public void onError(Throwable t) {
                            CompletableFuture<byte[]> p = pending;
                            if (p != null) {
                                p.completeExceptionally(t);
                            }
                        }

                        @Override
                        public void onCompleted() {
                        }
                    });
        }

        /** Sends {@code request} and waits for its reply. */
        byte[] call(byte[] request, long timeoutMillis) throws InterruptedException, ExecutionException, TimeoutException {
            CompletableFuture<byte[]> f = new CompletableFuture<>();
            pending = f;
            requests.onNext(request);
            return f.get(timeoutMillis, TimeUnit.MILLISECONDS);
        }

        @Override
        public void close() {
            requests.onCompleted();
        }
    }

    /**
     * byte[] as the message: written by one bulk copy into gRPC's buffers (a known length, drained
     * as protobuf's own stream is), read by one bulk copy out of them.
     */
    private static final class Bytes implements MethodDescriptor.Marshaller<byte[]> {
        @Override
        public InputStream stream(byte[] value) {
            return new Out(value);
        }

        @Override
        public byte[] parse(InputStream in) {
            try {
                if (in instanceof KnownLength) {
                    byte[] b = new byte[in.available()];
                    int n = in.readNBytes(b, 0, b.length);
                    if (n != b.length) {
                        throw new IOException("message ended after " + n + " of " + b.length + " bytes");
                    }
                    return b;
                }
                return in.readAllBytes();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    private static final class Out extends ByteArrayInputStream implements KnownLength, Drainable {
        Out(byte[] b) {
            super(b);
        }

        @Override
        public int drainTo(OutputStream target) throws IOException {
            int n = count - pos;
            target.write(buf, pos, n);
            pos = count;
            return n;
        }
    }
}
