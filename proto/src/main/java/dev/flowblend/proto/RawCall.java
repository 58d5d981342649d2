package dev.flowblend.proto;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A gRPC call that sends request messages as bytes, valid or not, and reports how it ended: how the
 * fuzz tests of both servers reach them with malformed messages that no generated stub can send
 * (and how one checks by hand what a server answers to given bytes). Not used by the servers.
 */
public final class RawCall {
    private RawCall() {
    }

    /** How a call ended: its status and how many response messages came before. */
    public record Outcome(Status status, int messages) {
    }

    private static final MethodDescriptor.Marshaller<byte[]> BYTES = new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(byte[] value) {
            return new ByteArrayInputStream(value);
        }

        @Override
        public byte[] parse(InputStream stream) {
            try {
                return stream.readAllBytes();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    };

    /** {@code method} with request and response as bytes. */
    public static MethodDescriptor<byte[], byte[]> bytes(MethodDescriptor<?, ?> method) {
        return method.toBuilder(BYTES, BYTES).build();
    }

    /**
     * Sends {@code requests} and half-closes; with {@code cancelAfterFirst} the call is cancelled
     * once the first response arrives (its outcome is then OK with one message).
     */
    public static Outcome call(Channel channel, MethodDescriptor<byte[], byte[]> method, List<byte[]> requests,
                        boolean cancelAfterFirst) throws Exception {
        ClientCall<byte[], byte[]> call = channel.newCall(method, CallOptions.DEFAULT.withDeadlineAfter(60, TimeUnit.SECONDS));
        CompletableFuture<Outcome> done = new CompletableFuture<>();
        AtomicInteger messages = new AtomicInteger();
        call.start(new ClientCall.Listener<>() {
            @Override
            public void onMessage(byte[] message) {
                messages.incrementAndGet();
                if (cancelAfterFirst) {
                    done.complete(new Outcome(Status.OK, 1));
                    call.cancel("the fuzz test has its answer", null);
                } else {
                    call.request(1);
                }
            }

            @Override
            public void onClose(Status status, Metadata trailers) {
                done.complete(new Outcome(status, messages.get()));
            }
        }, new Metadata());
        call.request(1);
        for (byte[] r : requests) {
            call.sendMessage(r);
        }
        call.halfClose();
        return done.get(90, TimeUnit.SECONDS);
    }

    /** The bytes of a message whose field {@code field} is a length-delimited value of {@code bytes} (e.g. invalid UTF-8). */
    public static byte[] withLengthDelimited(byte[] message, int field, byte[] bytes) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        out.writeBytes(message);
        writeVarint(out, (field << 3) | 2);
        writeVarint(out, bytes.length);
        out.writeBytes(bytes);
        return out.toByteArray();
    }

    private static void writeVarint(java.io.ByteArrayOutputStream out, int v) {
        while ((v & ~0x7F) != 0) {
            out.write((v & 0x7F) | 0x80);
            v >>>= 7;
        }
        out.write(v);
    }

    /** Whether {@code bytes} is valid UTF-8. */
    public static boolean validUtf8(byte[] bytes) {
        return com.google.protobuf.ByteString.copyFrom(bytes).isValidUtf8();
    }
}
