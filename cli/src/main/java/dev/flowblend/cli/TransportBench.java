package dev.flowblend.cli;

import com.google.protobuf.ByteString;
import dev.flowblend.orchestrator.Backend;
import dev.flowblend.orchestrator.Conditioning;
import dev.flowblend.orchestrator.Noise;
import dev.flowblend.orchestrator.OrchestratorConfig;
import dev.flowblend.orchestrator.OrchestratorServer;
import dev.flowblend.orchestrator.RemoteBackend;
import dev.flowblend.proto.inference.GRPCInferenceServiceGrpc;
import dev.flowblend.proto.inference.ModelInferRequest;
import dev.flowblend.proto.inference.ModelStreamInferResponse;
import dev.flowblend.runtime.DType;
import dev.flowblend.runtime.ModelEntry;
import dev.flowblend.runtime.ModelFamily;
import dev.flowblend.runtime.RuntimeOptions;
import dev.flowblend.runtime.Tensors;
import dev.flowblend.runtime.VideoSize;
import dev.flowblend.runtime.Wire;
import dev.flowblend.worker.WorkerConfig;
import dev.flowblend.worker.WorkerServer;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * {@code bench --transport}: what moving a guided step's tensors costs at real sizes, with the
 * model taken out (the transport families of models/transport: velocity = latent). In one JVM,
 * over Netty on loopback, three workers serve one mode each and the orchestrator's own client
 * path ({@link RemoteBackend#guidedVelocityAsync}) drives them: (a) FP32, both branches as a
 * batch of 2; (b) BF16, both branches; (c) BF16, the latent once with guidance_scale, the worker
 * combining the branches. A bare grpc-java echo server ({@link EchoServer}) is sent each mode's
 * exact request bytes and answers as many bytes as the worker did, on the same transport. Each
 * run alternates a mode's steps with its echoes, modes in turn, so drift hits all alike. Every
 * step's bytes are counted on the servers ({@link WireCounter}) and must equal the steady step's,
 * and every velocity must be bitwise the latent. Not thread-safe; one run at a time.
 */
final class TransportBench {
    static final String POOL = "transport";
    static final int MAX_MESSAGE_BYTES = 64 << 20;
    static final long STEP_TIMEOUT_MILLIS = 60_000;
    static final long HEALTH_CHECK_MILLIS = 5_000;
    /** Steps of one block that may come in another form before the run gives up. */
    static final int MAX_UNSTEADY = 20;
    private static final String STREAM = GRPCInferenceServiceGrpc.getModelStreamInferMethod().getFullMethodName();
    private static final String METADATA = GRPCInferenceServiceGrpc.getServerMetadataMethod().getFullMethodName();

    /** One wire form: the family (fp32/ or bf16/) and whether its worker applies guidance. */
    record Mode(String key, String label, String family, boolean workerGuidance) {
    }

    static final List<Mode> MODES = List.of(
            new Mode("a", "fp32, both branches", "fp32", false),
            new Mode("b", "bf16, both branches", "bf16", false),
            new Mode("c", "bf16, latent once + worker guidance", "bf16", true));

    /**
     * One mode's measurements. {@code requests} / {@code replies}: the message bytes of the recorded
     * steps (each counted on the worker and checked equal to the message's size; they differ
     * between steps by a few bytes only, the digits of the stream's request id and the varints of
     * the worker's timings); {@code payloadIn} / {@code payloadOut}: the tensor bytes within every
     * step (raw_input_contents, raw_output_contents; each step's checked equal);
     * {@code echoRequest} / {@code echoReply}: what the echo replays, a steady step's request bytes
     * and its answer's size; {@code echoIn} / {@code echoOut}: what the echo server counted per
     * echo; timings per run, in ms; {@code unsteadySteps}: steps repeated because they came in
     * another form (the endpoint had forgotten the worker's extensions after a failed health check).
     */
    record ModeResult(Mode mode, Sizes requests, Sizes replies, long payloadIn, long payloadOut, int echoRequest,
                      int echoReply, long echoIn, long echoOut, List<List<Double>> stepMs, List<List<Double>> echoMs,
                      List<Double> queueMs, List<Double> computeMs, int verifiedSteps, int unsteadySteps) {
    }

    /** Sizes in bytes of a set of messages. */
    record Sizes(long min, long max, double mean) {
    }

    /** Accumulates {@link Sizes}. */
    private static final class SizeStats {
        long min = Long.MAX_VALUE;
        long max = Long.MIN_VALUE;
        long sum;
        int n;

        void add(long v) {
            min = Math.min(min, v);
            max = Math.max(max, v);
            sum += v;
            n++;
        }

        Sizes sizes() {
            return new Sizes(min, max, (double) sum / n);
        }
    }

    /** A whole run; {@code latentShape} and {@code contextShape} as a step sends them in mode c. */
    record Result(String size, long[] latentShape, long[] contextShape, double guidance, int runs, int warmup,
                  int steps, List<ModeResult> modes, double wallSeconds) {
    }

    /** What one mode's worker and client hold during the run. */
    private static final class Lane {
        final Mode mode;
        final WireCounter counter = new WireCounter(STREAM, METADATA);
        WorkerServer worker;
        RemoteBackend backend;
        Conditioning conditioning;
        byte[] request;
        int replyBytes;
        long payloadIn;
        long payloadOut;
        long echoIn = -1;
        long echoOut = -1;
        int unsteady;
        final SizeStats requests = new SizeStats();
        final SizeStats replies = new SizeStats();
        final List<List<Double>> steps = new ArrayList<>();
        final List<List<Double>> echoes = new ArrayList<>();
        final List<Double> queue = new ArrayList<>();
        final List<Double> compute = new ArrayList<>();
        int verified;

        Lane(Mode mode) {
            this.mode = mode;
        }
    }

    private final TransportOptions options;
    private float[] latent;
    private final float[] timesteps = {500f};
    private VideoSize size;
    private float guidance;

    TransportBench(TransportOptions options) {
        this.options = options;
    }

    /** Runs the benchmark; {@code progress} hears of each finished mode block (may be a no-op). */
    Result run(Runnable progress) throws Exception {
        options.validate();
        long start = System.nanoTime();
        Map<String, ModelFamily> families = Map.of("fp32", ModelFamily.load(options.modelsDir().resolve("fp32")),
                "bf16", ModelFamily.load(options.modelsDir().resolve("bf16")));
        ModelFamily first = families.get("fp32");
        size = first.conventions().videoSizes().stream().filter(v -> v.name().equals(options.size)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("--transport-size is '" + options.size
                        + "'; the transport families declare " + first.conventions().videoSizes().stream()
                        .map(VideoSize::name).toList()));
        guidance = (float) first.conventions().defaultGuidanceScale();
        ModelEntry velocity = first.byRole(ModelFamily.ROLE_VELOCITY_LARGE);
        latent = bf16Exact(Noise.gaussian(1, size.latentElements(first.conventions().latentChannels())));
        float[] context = bf16Exact(Noise.gaussian(2, Math.toIntExact(2 * velocity.input("context").sampleElements())));
        List<Lane> lanes = MODES.stream().map(Lane::new).toList();
        ScheduledExecutorService timers = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "transport-bench-timers");
            t.setDaemon(true);
            return t;
        });
        WireCounter echoCounter = new WireCounter(EchoServer.STREAM.getFullMethodName(), null);
        ManagedChannel echoChannel = null;
        try (EchoServer echo = new EchoServer(echoCounter, MAX_MESSAGE_BYTES)) {
            for (Lane l : lanes) {
                ModelFamily f = families.get(l.mode.family());
                l.worker = new WorkerServer(workerConfig(l.mode), f, Launcher.netty(NettyServerBuilder.forAddress(
                        new InetSocketAddress("127.0.0.1", 0))).addStreamTracerFactory(l.counter)
                        .intercept(l.counter.interceptor())).start();
                l.backend = new RemoteBackend(f, orchestratorConfig(l.worker.port()),
                        OrchestratorServer.nettyChannels(MAX_MESSAGE_BYTES), timers);
                DType wire = f.byRole(ModelFamily.ROLE_VELOCITY_LARGE).input("context").dtype();
                l.conditioning = Conditioning.of(context, 2, wire);  // as a generation converts it, once
            }
            echoChannel = OrchestratorServer.nettyChannels(MAX_MESSAGE_BYTES).apply("127.0.0.1:" + echo.port());
            try (EchoServer.Client client = new EchoServer.Client(echoChannel)) {
                for (Lane l : lanes) {
                    prime(l);
                    echo.reply(l.request.length, l.replyBytes);
                }
                for (int r = -options.warmup; r < options.runs; r++) {
                    for (Lane l : lanes) {
                        block(l, client, echoCounter, r >= 0);
                        progress.run();
                    }
                }
            }
        } finally {
            for (Lane l : lanes) {
                if (l.backend != null) {
                    l.backend.close();
                }
            }
            if (echoChannel != null) {
                echoChannel.shutdownNow();
            }
            for (Lane l : lanes) {
                if (l.worker != null) {
                    l.worker.close();
                }
            }
            timers.shutdownNow();
        }
        List<ModeResult> modes = new ArrayList<>();
        for (Lane l : lanes) {
            modes.add(new ModeResult(l.mode, l.requests.sizes(), l.replies.sizes(), l.payloadIn, l.payloadOut,
                    l.request.length, l.replyBytes, l.echoIn, l.echoOut, l.steps, l.echoes, l.queue, l.compute,
                    l.verified, l.unsteady));
        }
        return new Result(size.name(), velocity.input("latent").withBatch(1, size.binding()),
                velocity.input("context").withBatch(2), guidance, options.runs, options.warmup, options.steps, modes,
                (System.nanoTime() - start) / 1e9);
    }

    /** The values rounded to BF16, so every mode sends and gets back exactly the same numbers. */
    private static float[] bf16Exact(float[] a) {
        for (int i = 0; i < a.length; i++) {
            a[i] = Tensors.fromBf16(Tensors.toBf16(a[i]));
        }
        return a;
    }

    private static WorkerConfig workerConfig(Mode mode) {
        // batches of 2: one guided pair, the largest a step sends
        return new WorkerConfig("transport-" + mode.key(), "transport", "127.0.0.1", 0, null,
                List.of("velocity-large"), RuntimeOptions.cpu(1), new WorkerConfig.Batching(2, 0, 16), null,
                MAX_MESSAGE_BYTES, 5, 0, null, null, WorkerConfig.Security.PLAINTEXT)
                .withApplyGuidance(mode.workerGuidance());
    }

    /**
     * One pool of one worker, health-checked every 5 s (the endpoint learns the worker's extensions
     * after its first passing check; a failed one makes it forget them until the next passes).
     */
    private static OrchestratorConfig orchestratorConfig(int port) {
        List<OrchestratorConfig.PoolConfig> pools = List.of(new OrchestratorConfig.PoolConfig(POOL, "velocity-large",
                List.of("127.0.0.1:" + port), null, 0, OrchestratorConfig.PoolConfig.NO_FALLBACK));
        return new OrchestratorConfig("127.0.0.1", 0, null, pools, List.of(POOL), List.of(POOL), null, Map.of(), null,
                0, 0, HEALTH_CHECK_MILLIS, MAX_MESSAGE_BYTES, 0, null, true, null, null, OrchestratorConfig.Security.PLAINTEXT);
    }

    /** One step's outcome as the client and the worker's counters saw it. */
    private record Sample(double millis, long in, long out, double queueMillis, double computeMillis) {
    }

    private Sample step(Lane l) throws Exception {
        long in0 = l.counter.inbound();
        long out0 = l.counter.outbound();
        long t0 = System.nanoTime();
        Backend.Velocity v = Backend.await(l.backend.guidedVelocityAsync(POOL, latent, timesteps, l.conditioning, 1,
                guidance, size));
        double ms = (System.nanoTime() - t0) / 1e6;
        Sample s = new Sample(ms, l.counter.inbound() - in0, l.counter.outbound() - out0, v.queueMillis(),
                v.computeMillis());
        float[] got = v.values();
        int bad = java.util.Arrays.mismatch(got, latent);
        if (bad >= 0) {
            throw new IllegalStateException("mode " + l.mode.key() + ": the velocity is not the latent: " + (bad
                    < Math.min(got.length, latent.length) ? "element " + bad + " is " + got[bad] + ", the latent's "
                    + latent[bad] : got.length + " values for a latent of " + latent.length));
        }
        l.verified++;
        return s;
    }

    /**
     * Steps until one arrives in its steady form (the endpoint knows the worker's extensions, the
     * context is cached), whose request bytes and reply size the echo then replays.
     */
    private void prime(Lane l) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (l.counter.closedOk() < 1) {  // the backend's first health check asks for ServerMetadata
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("mode " + l.mode.key() + ": the worker's ServerMetadata was not asked");
            }
            Thread.sleep(5);
        }
        String why = "no step";
        for (int i = 0; i < 20; i++) {
            Sample s = step(l);
            ModelInferRequest r = (ModelInferRequest) l.counter.lastInbound();
            why = steady(r, l.mode);
            if (why == null && i > 0) {  // the first step sends the context, whatever form it has
                if (r.getSerializedSize() != s.in()) {
                    throw new IllegalStateException("mode " + l.mode.key() + ": the worker counted " + s.in()
                            + " bytes for a request of " + r.getSerializedSize());
                }
                l.request = r.toByteArray();
                l.replyBytes = Math.toIntExact(s.out());
                l.payloadIn = r.getRawInputContentsList().stream().mapToLong(ByteString::size).sum();
                l.payloadOut = outputBytes(l);
                return;
            }
        }
        throw new IllegalStateException("mode " + l.mode.key() + " never reached its steady form: " + why);
    }

    /**
     * Null when a step came in the steady form (else what differed); a steady step must be exact:
     * the worker counted its request's and answer's sizes, and the steady tensor bytes each way.
     */
    private static String check(Lane l, Sample s) {
        ModelInferRequest r = (ModelInferRequest) l.counter.lastInbound();
        ModelStreamInferResponse a = (ModelStreamInferResponse) l.counter.lastOutbound();
        String form = steady(r, l.mode);
        long in = r.getRawInputContentsList().stream().mapToLong(ByteString::size).sum();
        long out = outputBytes(l);
        if (form != null) {
            return form;
        }
        if (s.in() != r.getSerializedSize() || s.out() != a.getSerializedSize() || in != l.payloadIn
                || out != l.payloadOut) {
            throw new IllegalStateException("mode " + l.mode.key() + ": a step moved " + s.in() + " bytes in and "
                    + s.out() + " out for messages of " + r.getSerializedSize() + " and " + a.getSerializedSize()
                    + " bytes, " + in + " and " + out + " of tensors (steady: " + l.payloadIn + " and " + l.payloadOut
                    + ")");
        }
        return null;
    }

    /** Tensor bytes of the worker's last answer. */
    private static long outputBytes(Lane l) {
        return ((ModelStreamInferResponse) l.counter.lastOutbound()).getInferResponse().getRawOutputContentsList()
                .stream().mapToLong(ByteString::size).sum();
    }

    /** Null when {@code r} is a steady step of {@code mode}, else what differs. */
    static String steady(ModelInferRequest r, Mode mode) {
        if (r == null) {
            return "no request seen";
        }
        if (!r.getParametersMap().containsKey(Wire.CONTEXT_ID)
                || r.getInputsList().stream().anyMatch(t -> t.getName().equals("context"))) {
            return "the context travels with the request, not by id";
        }
        if (r.getParametersMap().containsKey(Wire.GUIDANCE_SCALE) != mode.workerGuidance()) {
            return "guidance_scale " + (mode.workerGuidance() ? "missing" : "present");
        }
        long batch = r.getInputsList().stream().filter(t -> t.getName().equals("latent")).findFirst()
                .map(t -> t.getShape(0)).orElse(-1L);
        long want = mode.workerGuidance() ? 1 : 2;
        return batch == want ? null : "latent batch " + batch + ", expected " + want;
    }

    /**
     * One run of a mode: its steps, each paired with an echo of its bytes, the echo after the step
     * on even steps and before it on odd ones (so what the previous call left behind, garbage
     * included, falls on both alike).
     */
    private void block(Lane l, EchoServer.Client echo, WireCounter echoCounter, boolean record) throws Exception {
        List<Double> steps = new ArrayList<>();
        List<Double> echoes = new ArrayList<>();
        int unsteady = 0;
        for (int k = 0; k < options.steps; k++) {
            double echoFirst = k % 2 == 1 ? echo(l, echo, echoCounter) : Double.NaN;
            Sample s = step(l);
            String why = check(l, s);
            if (why != null) {  // e.g. a health check timed out and the endpoint forgot the extensions: not recorded
                l.unsteady++;
                if (++unsteady > MAX_UNSTEADY) {
                    throw new IllegalStateException("mode " + l.mode.key() + ": " + unsteady + " steps in a row not in "
                            + "the steady form: " + why);
                }
                k--;
                continue;
            }
            double ms = k % 2 == 1 ? echoFirst : echo(l, echo, echoCounter);
            if (record) {
                l.requests.add(s.in());
                l.replies.add(s.out());
                steps.add(s.millis());
                echoes.add(ms);
                l.queue.add(s.queueMillis());
                l.compute.add(s.computeMillis());
            }
        }
        if (record) {
            l.steps.add(steps);
            l.echoes.add(echoes);
        }
    }

    /** One echo of the lane's steady request; its time in ms. */
    private static double echo(Lane l, EchoServer.Client echo, WireCounter echoCounter) throws Exception {
        long in0 = echoCounter.inbound();
        long out0 = echoCounter.outbound();
        long t0 = System.nanoTime();
        byte[] reply = echo.call(l.request, STEP_TIMEOUT_MILLIS);
        double ms = (System.nanoTime() - t0) / 1e6;
        if (reply.length != l.replyBytes) {
            throw new IllegalStateException("the echo answered " + reply.length + " bytes; expected " + l.replyBytes);
        }
        l.echoIn = echoCounter.inbound() - in0;
        l.echoOut = echoCounter.outbound() - out0;
        return ms;
    }
}
