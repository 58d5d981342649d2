package dev.flowblend.orchestrator;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import dev.flowblend.proto.generation.Accepted;
import dev.flowblend.proto.generation.CancelRequest;
import dev.flowblend.proto.generation.CancelResponse;
import dev.flowblend.proto.generation.Fallback;
import dev.flowblend.proto.generation.GenerateEvent;
import dev.flowblend.proto.generation.GenerateRequest;
import dev.flowblend.proto.generation.GenerationMetadata;
import dev.flowblend.proto.generation.GenerationServiceGrpc;
import dev.flowblend.proto.generation.Result;
import dev.flowblend.proto.generation.StepList;
import dev.flowblend.proto.generation.Timings;
import dev.flowblend.proto.generation.VideoFormat;
import dev.flowblend.runtime.Tensors;
import dev.flowblend.runtime.VideoSize;
import dev.flowblend.security.BearerAuth;
import dev.flowblend.security.Principal;
import dev.flowblend.telemetry.Event;
import io.grpc.Context;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.Arrays;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.function.LongSupplier;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * GenerationService: validates, admits (bounded executor), runs the {@link Generator} in a
 * cancellable context and streams its events. Client disconnects, deadlines and Cancel all cancel
 * that context, which stops the sampler between steps and aborts the in-flight worker RPC.
 * Thread-safe.
 */
final class GenerationService extends GenerationServiceGrpc.GenerationServiceImplBase {
    private static final Logger LOG = Logger.getLogger(GenerationService.class.getName());
    private final Generator generator;
    private final GenerationRequests requests;
    private final Admission admission;
    private final OrchestratorConfig config;
    /** Admitted generations (running or waiting) by id, with the principal that started each. */
    private final Map<String, Admitted> running = new ConcurrentHashMap<>();
    private final LongSupplier nanoTime;
    private final OrchestratorMetrics metrics;

    private record Admitted(Context.CancellableContext ctx, Principal owner) {
    }

    GenerationService(Generator generator, GenerationRequests requests, Admission admission,
                      OrchestratorConfig config, LongSupplier nanoTime, OrchestratorMetrics metrics) {
        this.nanoTime = nanoTime;
        this.metrics = metrics;
        this.generator = generator;
        this.requests = requests;
        this.admission = admission;
        this.config = config;
    }

    @Override
    public void generate(GenerateRequest request, StreamObserver<GenerateEvent> out) {
        GenerationSpec spec;
        try {
            spec = requests.parse(request);
        } catch (GenerationRequests.Invalid e) {
            metrics.rejected(OrchestratorMetrics.NO_PLAN, Status.Code.INVALID_ARGUMENT.name());
            LOG.info(Event.of("generation_rejected").with("code", Status.Code.INVALID_ARGUMENT)
                    .with("reason", e.getMessage()).toString());
            out.onError(Status.INVALID_ARGUMENT.withDescription(e.getMessage()).asRuntimeException());
            return;
        }
        String id = request.getGenerationId().isEmpty() ? UUID.randomUUID().toString() : request.getGenerationId();
        Context.CancellableContext ctx = Context.current().withCancellation();
        Principal caller = BearerAuth.principal();
        if (running.putIfAbsent(id, new Admitted(ctx, caller)) != null) {
            out.onError(Status.ALREADY_EXISTS.withDescription("generation_id '" + id + "' is already running")
                    .asRuntimeException());
            return;
        }
        ServerCallStreamObserver<GenerateEvent> call = (ServerCallStreamObserver<GenerateEvent>) out;
        // With a handler set, events sent after the client went away are dropped instead of throwing;
        // the generation context (a child of the call's) is cancelled either way.
        call.setOnCancelHandler(() -> ctx.cancel(null));
        String[] pools = generator.resolve(spec.plan(), spec.steps());
        // Accepted goes out at once, also for a generation that waits for a slot; the generation's
        // own events follow it (the latch orders the two threads' writes to the stream).
        CountDownLatch acceptedSent = new CountDownLatch(1);
        int ahead;
        try {
            ahead = admission.admit(caller, () -> ctx.run(() -> {
                awaitUninterruptibly(acceptedSent);
                run(id, spec, request, ctx, call);
            }));
        } catch (Admission.Refused e) {
            running.remove(id);
            ctx.cancel(null);
            metrics.rejected(spec.plan().name(), Status.Code.RESOURCE_EXHAUSTED.name());
            LOG.info(Event.of("generation_rejected").with("id", id).with("code", Status.Code.RESOURCE_EXHAUSTED)
                    .with("caller", caller.name()).with("reason", e.getMessage()).toString());
            out.onError(Status.RESOURCE_EXHAUSTED.withDescription(e.getMessage()).asRuntimeException());
            return;
        }
        try {
            LOG.info(Event.of("generation_accepted").with("id", id).with("caller", caller.name())
                    .with("plan", spec.plan().name())
                    .with("steps", spec.steps()).with("seed", spec.seed()).with("prompt_chars", spec.prompt().length())
                    .with("queue_position", ahead).toString());
            out.onNext(GenerateEvent.newBuilder().setAccepted(Accepted.newBuilder().setGenerationId(id)
                    .addAllStepPools(Arrays.asList(pools)).setSteps(spec.steps()).setQueuePosition(ahead)).build());
        } finally {
            acceptedSent.countDown();
        }
    }

    private static void awaitUninterruptibly(CountDownLatch latch) {
        boolean interrupted = false;
        while (true) {
            try {
                latch.await();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Ends every admitted generation, running or queued, with UNAVAILABLE and a hint to retry:
     * the orchestrator is going away (its drain time has passed), and a client retries
     * UNAVAILABLE, where a reset stream (CANCELLED) it would not.
     */
    void abortAll(String why) {
        running.values().forEach(a -> a.ctx().cancel(new Draining(why)));
    }

    /** The sampler's view of a generation's context: cancelled by the client, a deadline, Cancel or a drain. */
    private static Sampler.Cancellation cancellation(Context.CancellableContext ctx) {
        return new Sampler.Cancellation() {
            @Override
            public boolean cancelled() {
                return ctx.isCancelled();
            }

            @Override
            public void whenCancelled(Runnable action) {
                ctx.addListener(c -> action.run(), Runnable::run);
            }
        };
    }

    /** Why a generation was cancelled by the orchestrator's own shutdown. */
    static final class Draining extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Draining(String why) {
            super(why, null, false, false);
        }
    }

    private void run(String id, GenerationSpec spec, GenerateRequest request, Context.CancellableContext ctx,
                     ServerCallStreamObserver<GenerateEvent> out) {
        long start = System.nanoTime();
        String plan = spec.plan().name();
        try {
            long interval = request.hasProgressIntervalMs() ? Integer.toUnsignedLong(request.getProgressIntervalMs())
                    : config.progressIntervalMillis();
            ProgressStream progress = new ProgressStream(out::onNext, interval, nanoTime);
            GenerationResult r;
            java.util.Set<String> fellBack = new java.util.HashSet<>();  // planned pools logged as falling back
            try {
                r = generator.generate(spec, step -> {
                    metrics.step(step.pool(), step.millis());
                    if (step.fallbackReason() != null && fellBack.add(step.plannedPool())) {
                        LOG.warning(Event.of("generation_fallback").with("id", id).with("pool", step.plannedPool())
                                .with("fallback", step.pool()).with("reason", step.fallbackReason())
                                .with("step", step.index()).toString());
                    }
                    progress.onStep(step);
                }, cancellation(ctx));
            } finally {
                progress.flush();  // every finished step is reported, also when the generation fails
            }
            boolean gif = request.getFormat() == VideoFormat.VIDEO_FORMAT_GIF;
            long v0 = System.nanoTime();
            int scale = request.getVideoScale() != 0 ? request.getVideoScale()
                    : config.videoScale() != 0 ? config.videoScale() : VideoEncoder.autoScale(r.frameShape());
            byte[] video = VideoEncoder.encode(r.frames(), r.frameShape(),
                    gif ? VideoEncoder.Container.GIF : VideoEncoder.Container.MP4, scale,
                    spec.fps() != 0 ? spec.fps() : generator.family().conventions().defaultFrameRate());
            double videoMs = (System.nanoTime() - v0) / 1e6;
            Result.Builder res = Result.newBuilder().setGenerationId(id).setVideo(ByteString.copyFrom(video))
                    .setFormat(gif ? VideoFormat.VIDEO_FORMAT_GIF : VideoFormat.VIDEO_FORMAT_MP4)
                    .setMimeType(gif ? "image/gif" : "video/mp4")
                    .setMetadata(metadata(spec, r, videoMs, (System.nanoTime() - start) / 1e6));
            if (request.getIncludeFrames()) {
                res.setFrames(UnsafeByteOperations.unsafeWrap(Tensors.bytes(r.frames())));
                for (int d : r.frameShape()) {
                    res.addFramesShape(d);
                }
            }
            out.onNext(GenerateEvent.newBuilder().setResult(res).build());
            out.onCompleted();
            long wall = System.nanoTime() - start;
            metrics.generation(plan, OrchestratorMetrics.SUCCESS, wall);
            Event done = Event.of("generation_finished").with("id", id).with("plan", plan).with("steps", spec.steps());
            r.served().forEach((pool, steps) -> done.with("steps_" + pool, steps.size()));
            LOG.info(done.with("fallback_steps", r.fallbackSteps()).with("wall_ms", wall / 1_000_000).toString());
        } catch (BackendException e) {
            Status st = status(e, ctx, id);
            failed(id, plan, start, st, e.getMessage(), st.getCode() == Status.Code.INTERNAL ? e : null);
            out.onError(st.asRuntimeException());
        } catch (Exception | Error e) {  // whatever went wrong, the client gets a status, never a stream left open
            Status st = Status.INTERNAL.withDescription("generation " + id + " failed: " + e);
            failed(id, plan, start, st, st.getDescription(), e);
            out.onError(st.asRuntimeException());
        } finally {
            running.remove(id);
            ctx.cancel(null);
        }
    }

    /** @param detail the whole reason, worker addresses included (the client's status has none) */
    private void failed(String id, String plan, long start, Status status, String detail, Throwable internal) {
        long wall = System.nanoTime() - start;
        metrics.generation(plan, status.getCode().name(), wall);
        String line = Event.of("generation_failed").with("id", id).with("plan", plan).with("code", status.getCode())
                .with("wall_ms", wall / 1_000_000).with("reason", detail).toString();
        if (internal != null) {
            LOG.log(Level.SEVERE, line, internal);
        } else {
            LOG.info(line);
        }
    }

    private GenerationMetadata metadata(GenerationSpec spec, GenerationResult r, double videoMs, double totalMs) {
        GenerationMetadata.Builder m = GenerationMetadata.newBuilder().setSeed(spec.seed()).setSteps(spec.steps())
                .setSolver(spec.sampling().solver().name()).setSolverHistory(spec.sampling().history().wireName())
                .setGuidanceScale((float) spec.guidance()).setPlan(spec.plan().name() + " (" + spec.plan().describe() + ")")
                .addAllStepPools(Arrays.asList(r.stepPools())).setFlops(r.flops()).setLargeOnlyFlops(r.largeOnlyFlops())
                .addAllReusedSteps(r.reusedSteps())
                .setReuseBudget(spec.sampling().reuse() == null ? 0 : spec.sampling().reuse().budget())
                .setPrompt(spec.prompt());
        VideoSize size = spec.size() != null ? spec.size() : generator.family().conventions().defaultVideoSize();
        m.setSize(size.name()).setFrames(size.frames()).setHeight(size.height()).setWidth(size.width())
                .setFps(spec.fps() != 0 ? spec.fps() : generator.family().conventions().defaultFrameRate())
                .setSigmaShift(size.sigmaShift());
        r.served().forEach((pool, steps) -> m.putServed(pool, StepList.newBuilder()
                .addAllSteps(steps.stream().map(Integer::valueOf).toList()).build()));
        for (GenerationResult.Fallback f : r.fallbacks()) {
            m.addFallbacks(Fallback.newBuilder().setPlannedPool(f.plannedPool()).setServedPool(f.servedPool())
                    .setReason(f.reason()).addAllSteps(f.steps()));
        }
        if (r.textEncoderPool() != null) {
            m.setTextEncoderPool(r.textEncoderPool());
        }
        if (r.decoderPool() != null) {
            m.setDecoderPool(r.decoderPool());
        }
        Timings.Builder t = Timings.newBuilder().setTotalMs(totalMs).setEncodePromptMs(r.encodePromptMs())
                .setSamplingMs(r.samplingMs()).setDecodeMs(r.decodeMs()).setVideoEncodeMs(videoMs);
        r.poolMillis().forEach(t::putPoolMs);
        return m.setTimings(t).build();
    }

    private static Status status(BackendException e, Context ctx, String id) {
        return switch (e.kind()) {
            case CANCELLED, DEADLINE_EXCEEDED -> {
                Throwable cause = ctx.cancellationCause();
                if (cause instanceof Draining d) {
                    yield Status.UNAVAILABLE.withDescription("generation " + id + " stopped: the orchestrator is "
                            + "shutting down (" + d.getMessage() + "); retry the request");
                }
                boolean deadline = e.kind() == BackendException.Kind.DEADLINE_EXCEEDED
                        || (ctx.getDeadline() != null && ctx.getDeadline().isExpired());
                yield deadline ? Status.DEADLINE_EXCEEDED.withDescription("generation " + id + ": " + e.clientMessage())
                        : Status.CANCELLED.withDescription("generation " + id + " cancelled"
                        + (cause == null ? "" : " (" + cause.getMessage() + ")"));
            }
            case UNAVAILABLE -> Status.UNAVAILABLE.withDescription("generation " + id + ": " + e.clientMessage());
            case RESOURCE_EXHAUSTED -> Status.RESOURCE_EXHAUSTED.withDescription(e.clientMessage());
            case INVALID_ARGUMENT -> Status.INVALID_ARGUMENT.withDescription(e.clientMessage());
            case FAILED_PRECONDITION -> Status.FAILED_PRECONDITION.withDescription("generation " + id + ": "
                    + e.clientMessage());
            case INTERNAL -> Status.INTERNAL.withDescription("generation " + id + ": " + e.clientMessage());
        };
    }

    @Override
    public void cancel(CancelRequest request, StreamObserver<CancelResponse> out) {
        Admitted a = running.get(request.getGenerationId());
        if (a == null) {
            out.onError(Status.NOT_FOUND.withDescription("no running generation has generation_id '"
                    + request.getGenerationId() + "'").asRuntimeException());
            return;
        }
        Principal caller = BearerAuth.principal();
        if (!a.owner().name().equals(caller.name())) {
            LOG.info(Event.of("generation_cancel_refused").with("id", request.getGenerationId())
                    .with("caller", caller.name()).with("owner", a.owner().name()).toString());
            out.onError(Status.PERMISSION_DENIED.withDescription("generation '" + request.getGenerationId()
                    + "' was started with another token; a token may cancel only its own generations")
                    .asRuntimeException());
            return;
        }
        a.ctx().cancel(new IllegalStateException("Cancel was called"));
        LOG.info(Event.of("generation_cancel_requested").with("id", request.getGenerationId())
                .with("caller", caller.name()).toString());
        out.onNext(CancelResponse.newBuilder().setCancelled(true).build());
        out.onCompleted();
    }

    int running() {
        return running.size();
    }
}
