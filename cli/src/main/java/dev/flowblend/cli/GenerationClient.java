package dev.flowblend.cli;

import dev.flowblend.proto.generation.GenerateEvent;
import dev.flowblend.proto.generation.GenerateRequest;
import dev.flowblend.proto.generation.GenerationServiceGrpc;
import dev.flowblend.proto.generation.Progress;
import dev.flowblend.proto.generation.Result;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.util.Iterator;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * A blocking GenerationService client for the launcher's commands. Owns its channel.
 */
final class GenerationClient implements AutoCloseable {
    private final ManagedChannel channel;
    private final GenerationServiceGrpc.GenerationServiceBlockingStub stub;

    private final String target;
    private final String unavailableHint;

    /** A plaintext client without a token: the launcher's own local clusters (demo, bench). */
    GenerationClient(String target) {
        this(target, plaintext(target), "");
    }

    /**
     * @param channel to the orchestrator at {@code target}, with its credentials; this client owns and closes it
     * @param unavailableHint added to an UNAVAILABLE error (e.g. what to try when a TLS handshake may be the cause)
     */
    GenerationClient(String target, ManagedChannel channel, String unavailableHint) {
        this.target = target;
        this.unavailableHint = unavailableHint;
        this.channel = channel;
        this.stub = GenerationServiceGrpc.newBlockingStub(channel);
    }

    private static ManagedChannel plaintext(String target) {
        checkTarget("target", target);
        return NettyChannelBuilder.forTarget(target).usePlaintext().maxInboundMessageSize(ClientOptions.MAX_INBOUND_BYTES)
                .build();
    }

    /** An orchestrator address is host:port (a name, an IPv4 address or a bracketed IPv6 one). */
    static void checkTarget(String option, String target) {
        if (target == null || !target.matches("(\\[[0-9A-Fa-f:.]+]|[A-Za-z0-9._-]+):\\d{1,5}")
                || Integer.parseInt(target.substring(target.lastIndexOf(':') + 1)) > 65535) {
            throw new IllegalArgumentException(option + " '" + target + "' must be host:port, e.g. 127.0.0.1:8100");
        }
    }

    /** Result plus the client-side wall time of the whole call. */
    record Outcome(Result result, double wallMs) {
    }

    Outcome generate(GenerateRequest request, long deadlineSeconds, Consumer<Progress> progress) {
        long t0 = System.nanoTime();
        Iterator<GenerateEvent> events = stub.withDeadlineAfter(deadlineSeconds, TimeUnit.SECONDS).generate(request);
        Result result = null;
        while (hasNext(events)) {
            GenerateEvent e = events.next();
            switch (e.getEventCase()) {
                case PROGRESS -> progress.accept(e.getProgress());
                case RESULT -> result = e.getResult();
                default -> { }
            }
        }
        if (result == null) {
            throw new IllegalStateException("the orchestrator closed the stream without a result");
        }
        return new Outcome(result, (System.nanoTime() - t0) / 1e6);
    }

    /** The stream's next event; an orchestrator that cannot be reached is named in the error. */
    private boolean hasNext(Iterator<GenerateEvent> events) {
        try {
            return events.hasNext();
        } catch (StatusRuntimeException e) {
            if (e.getStatus().getCode() == Status.Code.UNAVAILABLE) {
                throw new StatusRuntimeException(e.getStatus().withDescription("orchestrator at " + target + ": "
                        + e.getStatus().getDescription() + unavailableHint));
            }
            throw e;
        }
    }

    @Override
    public void close() throws InterruptedException {
        channel.shutdown();
        if (!channel.awaitTermination(5, TimeUnit.SECONDS)) {
            channel.shutdownNow();
        }
    }
}
