package dev.flowblend.worker;

import dev.flowblend.proto.inference.GRPCInferenceServiceGrpc;
import dev.flowblend.runtime.ModelFamily;
import io.grpc.ManagedChannel;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;

/**
 * A started worker on in-process transport and a direct-executor channel to it, for tests.
 * Owns both; {@link #close()} shuts the channel, then the worker.
 */
final class InProcessWorker implements AutoCloseable {
    final WorkerServer server;
    final ManagedChannel channel;
    final GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub stub;

    private InProcessWorker(WorkerServer server, ManagedChannel channel) {
        this.server = server;
        this.channel = channel;
        this.stub = GRPCInferenceServiceGrpc.newBlockingStub(channel);
    }

    /** {@code config} serving {@code family}. */
    static InProcessWorker start(WorkerConfig config, ModelFamily family) throws Exception {
        String name = InProcessServerBuilder.generateName();
        WorkerServer server = new WorkerServer(config, family, InProcessServerBuilder.forName(name)).start();
        return new InProcessWorker(server, InProcessChannelBuilder.forName(name).directExecutor().build());
    }

    /** {@code config} serving the bundled family. */
    static InProcessWorker start(WorkerConfig config) throws Exception {
        return start(config, ModelFamily.load(ModelFamily.defaultDirectory()));
    }

    @Override
    public void close() {
        channel.shutdownNow();
        server.close();
    }
}
