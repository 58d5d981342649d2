package dev.flowblend.orchestrator;

import com.google.protobuf.UnsafeByteOperations;
import dev.flowblend.proto.inference.GRPCInferenceServiceGrpc;
import dev.flowblend.proto.inference.ModelInferRequest;
import dev.flowblend.proto.inference.ModelInferResponse;
import dev.flowblend.proto.inference.ModelStreamInferResponse;
import dev.flowblend.proto.inference.ServerMetadataRequest;
import dev.flowblend.proto.inference.ServerMetadataResponse;
import dev.flowblend.proto.inference.ServerReadyRequest;
import dev.flowblend.proto.inference.ServerReadyResponse;
import dev.flowblend.runtime.ModelEntry;
import dev.flowblend.runtime.OnnxModel;
import dev.flowblend.runtime.TensorSpec;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusException;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A minimal Open Inference Protocol server as a stock one behaves (the public KServe v2 proto and
 * nothing of flowblend's): no gRPC health service (ServerReady answers), no extensions, every
 * declared input required with its exact datatype and shape as Triton requires them, any request
 * parameter refused (it knows none), outputs without parameters. Runs the real model. Optionally
 * without ModelStreamInfer (UNIMPLEMENTED, the generated base class's answer).
 */
final class StockOipServer extends GRPCInferenceServiceGrpc.GRPCInferenceServiceImplBase implements AutoCloseable {
    private final ModelEntry spec;
    private final OnnxModel model;
    private final boolean streams;
    private final Server server;
    final AtomicInteger calls = new AtomicInteger();
    /** The input names of the last request, in the order sent. */
    volatile List<String> lastInputs = List.of();

    StockOipServer(ModelEntry spec, OnnxModel model, boolean streams) throws IOException {
        this.spec = spec;
        this.model = model;
        this.streams = streams;
        this.server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                .maxInboundMessageSize(64 << 20).addService(this).build().start();
    }

    String address() {
        return "127.0.0.1:" + server.getPort();
    }

    @Override
    public void serverReady(ServerReadyRequest request, StreamObserver<ServerReadyResponse> out) {
        out.onNext(ServerReadyResponse.newBuilder().setReady(true).build());
        out.onCompleted();
    }

    @Override
    public void serverMetadata(ServerMetadataRequest request, StreamObserver<ServerMetadataResponse> out) {
        out.onNext(ServerMetadataResponse.newBuilder().setName("stock-oip").setVersion("2.0").build());
        out.onCompleted();
    }

    @Override
    public void modelInfer(ModelInferRequest request, StreamObserver<ModelInferResponse> out) {
        try {
            out.onNext(infer(request));
            out.onCompleted();
        } catch (StatusException e) {
            out.onError(e);
        }
    }

    @Override
    public StreamObserver<ModelInferRequest> modelStreamInfer(StreamObserver<ModelStreamInferResponse> out) {
        if (!streams) {
            return super.modelStreamInfer(out);
        }
        return new StreamObserver<>() {
            @Override
            public void onNext(ModelInferRequest r) {
                ModelStreamInferResponse.Builder b = ModelStreamInferResponse.newBuilder();
                try {
                    b.setInferResponse(infer(r));
                } catch (StatusException e) {
                    b.setErrorMessage(e.getStatus().getDescription());
                }
                synchronized (out) {
                    out.onNext(b.build());
                }
            }

            @Override
            public void onError(Throwable t) {
            }

            @Override
            public void onCompleted() {
                out.onCompleted();
            }
        };
    }

    private ModelInferResponse infer(ModelInferRequest r) throws StatusException {
        calls.incrementAndGet();
        lastInputs = r.getInputsList().stream().map(ModelInferRequest.InferInputTensor::getName).toList();
        if (!r.getModelName().equals(spec.name())) {
            throw invalid("unknown model '" + r.getModelName() + "'");
        }
        if (!r.getParametersMap().isEmpty()) {
            throw invalid("unexpected parameters " + r.getParametersMap().keySet());
        }
        if (r.getInputsCount() != spec.inputs().size()) {
            throw invalid("expected " + spec.inputs().size() + " inputs but got " + r.getInputsCount());
        }
        if (r.getRawInputContentsCount() != r.getInputsCount()) {
            throw invalid("raw_input_contents must hold every input");
        }
        List<ByteBuffer> in = new ArrayList<>();
        List<long[]> shapes = new ArrayList<>();
        for (TensorSpec t : spec.inputs()) {
            int i = -1;
            for (int k = 0; k < r.getInputsCount(); k++) {
                if (r.getInputs(k).getName().equals(t.name())) {
                    i = k;
                }
            }
            if (i < 0) {
                throw invalid("missing input '" + t.name() + "'");
            }
            ModelInferRequest.InferInputTensor x = r.getInputs(i);
            if (!x.getDatatype().equals(t.dtype().wireName())) {
                throw invalid("input '" + t.name() + "' datatype " + x.getDatatype());
            }
            long[] shape = x.getShapeList().stream().mapToLong(Long::longValue).toArray();
            String bad = t.bind(x.getShapeList(), new java.util.HashMap<>());
            if (bad != null) {
                throw invalid("input '" + t.name() + "' " + bad);
            }
            ByteBuffer b = ByteBuffer.allocateDirect(r.getRawInputContents(i).size()).order(ByteOrder.nativeOrder());
            r.getRawInputContents(i).copyTo(b);
            in.add(b.flip());
            shapes.add(shape);
        }
        try {
            List<ByteBuffer> out = model.run(in, shapes);
            ModelInferResponse.Builder b = ModelInferResponse.newBuilder().setModelName(spec.name()).setId(r.getId());
            for (int o = 0; o < out.size(); o++) {
                TensorSpec t = spec.outputs().get(o);
                b.addOutputs(ModelInferResponse.InferOutputTensor.newBuilder().setName(t.name())
                        .setDatatype(t.dtype().wireName()));
                b.addRawOutputContents(UnsafeByteOperations.unsafeWrap(out.get(o)));
            }
            return b.build();
        } catch (Exception e) {
            throw Status.INTERNAL.withDescription(e.toString()).asException();
        }
    }

    private static StatusException invalid(String why) {
        return Status.INVALID_ARGUMENT.withDescription(why).asException();
    }

    @Override
    public void close() throws InterruptedException {
        server.shutdown().awaitTermination(5, TimeUnit.SECONDS);
        model.close();
    }
}
