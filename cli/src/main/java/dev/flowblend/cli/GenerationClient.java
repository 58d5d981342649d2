package dev.flowblend.cli;

import dev.flowblend.proto.generation.GenerateEvent;
import dev.flowblend.proto.generation.GenerateRequest;
import dev.flowblend.proto.generation.GenerationServiceGrpc;
import dev.flowblend.proto.generation.Progress;
import dev.flowblend.proto.generation.Result;
import io.grpc.ManagedChannel;
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

    GenerationClient(String target) {
        this.channel = NettyChannelBuilder.forTarget(target).usePlaintext().maxInboundMessageSize(256 << 20).build();
        this.stub = GenerationServiceGrpc.newBlockingStub(channel);
    }

    /** Result plus the client-side wall time of the whole call. */
    record Outcome(Result result, double wallMs) {
    }

    Outcome generate(GenerateRequest request, long deadlineSeconds, Consumer<Progress> progress) {
        long t0 = System.nanoTime();
        Iterator<GenerateEvent> events = stub.withDeadlineAfter(deadlineSeconds, TimeUnit.SECONDS).generate(request);
        Result result = null;
        while (events.hasNext()) {
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

    @Override
    public void close() throws InterruptedException {
        channel.shutdown();
        if (!channel.awaitTermination(5, TimeUnit.SECONDS)) {
            channel.shutdownNow();
        }
    }
}
