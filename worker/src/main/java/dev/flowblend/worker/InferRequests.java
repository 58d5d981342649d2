package dev.flowblend.worker;

import dev.flowblend.runtime.Wire;
import com.google.protobuf.ByteString;
import dev.flowblend.proto.inference.InferParameter;
import dev.flowblend.proto.inference.InferTensorContents;
import dev.flowblend.proto.inference.ModelInferRequest;
import dev.flowblend.runtime.DType;
import dev.flowblend.runtime.ModelEntry;
import dev.flowblend.runtime.TensorSpec;
import dev.flowblend.runtime.Tensors;
import dev.flowblend.runtime.VideoSize;
import io.grpc.Status;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Validates a ModelInferRequest against the model's manifest entry and turns it into the
 * batcher's inputs. Every refusal names the field and the limit. Stateless apart from the cache.
 */
final class InferRequests {
    /** The input that may travel by reference (parameter context_id). */
    static final String CONDITIONING_INPUT = "context";

    private final ConditioningCache cache;
    private final int maxBatch;
    private final List<VideoSize> sizes;
    private final boolean applyGuidance;

    /** @param sizes the family's video sizes: the only bindings of size symbols a request may use */
    InferRequests(ConditioningCache cache, int maxBatch, List<VideoSize> sizes) {
        this(cache, maxBatch, sizes, true);
    }

    /** @param applyGuidance whether requests may carry guidance_scale (the worker's apply_guidance) */
    InferRequests(ConditioningCache cache, int maxBatch, List<VideoSize> sizes, boolean applyGuidance) {
        this.cache = cache;
        this.maxBatch = maxBatch;
        this.sizes = List.copyOf(sizes);
        this.applyGuidance = applyGuidance;
    }

    /** Whether this worker applies classifier-free guidance on request (lists the guidance extension). */
    boolean appliesGuidance() {
        return applyGuidance;
    }

    /**
     * Inputs in manifest order plus the sample count; {@code storedContext} is the id this request
     * added to the conditioning cache (null if none), so a request refused after parsing can take
     * it back out ({@link #forget}).
     */
    /**
     * {@code batch} is what the model runs; with {@code guidance} (not NaN: the request asked this
     * worker to apply classifier-free guidance) the request's {@code samples} latents were sent once
     * and run twice (their {@code repeats} are 2; the batcher copies them twice), the contexts being
     * [cond.., uncond..], and the answer holds {@code samples} guided velocities.
     */
    record Parsed(List<ByteBuffer> inputs, List<long[]> shapes, Map<String, Long> binding, int batch,
                  List<Integer> outputs, String storedContext, float guidance, int samples, int[] repeats) {
        Parsed(List<ByteBuffer> inputs, List<long[]> shapes, Map<String, Long> binding, int batch,
               List<Integer> outputs, String storedContext) {
            this(inputs, shapes, binding, batch, outputs, storedContext, Float.NaN, batch, null);
        }

        /** How many times input {@code i}'s bytes go into the batch (see {@link DynamicBatcher.Job#repeats}). */
        int repeat(int i) {
            return repeats == null ? 1 : repeats[i];
        }

        boolean guided() {
            return !Float.isNaN(guidance);
        }
    }

    /** Takes back what {@link #parse} stored for a request that was then refused (e.g. a full queue). */
    void forget(Parsed p) {
        if (p.storedContext() != null) {
            cache.remove(p.storedContext());
        }
    }

    /** @param caller who sent it (see {@link ConditioningCache}): what it stores counts against its budget */
    Parsed parse(ModelInferRequest req, HostedModel hosted, String caller) throws InferException {
        ModelEntry spec = hosted.spec();
        String m = spec.name();
        if (!req.getModelVersion().isEmpty() && !req.getModelVersion().equals("1")) {
            throw new InferException(Status.Code.NOT_FOUND, "model '" + m + "' has no version '"
                    + req.getModelVersion() + "'; the only version is 1");
        }
        boolean raw = req.getRawInputContentsCount() > 0;
        if (raw && req.getRawInputContentsCount() != req.getInputsCount()) {
            throw InferException.invalid("raw_input_contents has " + req.getRawInputContentsCount()
                    + " entries but inputs has " + req.getInputsCount() + "; they must match one to one");
        }
        String contextId = stringParam(req.getParametersMap(), Wire.CONTEXT_ID);
        if (!applyGuidance && req.getParametersMap().containsKey(Wire.GUIDANCE_SCALE)) {
            throw InferException.invalid("parameter '" + Wire.GUIDANCE_SCALE + "' is refused: this worker's "
                    + "apply_guidance is false (its ServerMetadata does not list " + Wire.GUIDANCE_EXTENSION
                    + "); send both branches as a batch");
        }
        float guidance = guidanceParam(req.getParametersMap(), spec);
        Map<String, ByteString> given = new HashMap<>();
        Map<String, long[]> shapes = new HashMap<>();
        Map<String, Long> binding = new java.util.LinkedHashMap<>();
        int batch = -1;
        for (int i = 0; i < req.getInputsCount(); i++) {
            ModelInferRequest.InferInputTensor in = req.getInputs(i);
            TensorSpec t = spec.input(in.getName());
            if (t == null) {
                throw InferException.invalid("model '" + m + "' has no input '" + in.getName() + "'; inputs are "
                        + names(spec.inputs()));
            }
            if (given.containsKey(t.name())) {
                throw InferException.invalid("input '" + t.name() + "' is given twice");
            }
            int b = checkShape(m, t, in, binding);
            // with guidance the contexts are [cond, uncond] for each latent sent once
            boolean pair = !Float.isNaN(guidance) && t.name().equals(CONDITIONING_INPUT);
            if (pair && b % 2 != 0) {
                throw InferException.invalid("input 'context' has batch " + b + "; with parameter '"
                        + Wire.GUIDANCE_SCALE + "' it holds a [cond, uncond] pair per sample, so its batch is even");
            }
            int samples = pair ? b / 2 : b;
            if (batch >= 0 && samples != batch) {
                throw InferException.invalid("input '" + t.name() + "' has batch " + b + " but earlier inputs have "
                        + batch + "; all inputs must share dimension 0" + (Float.isNaN(guidance) ? ""
                        : " (the context's being twice the others' with parameter '" + Wire.GUIDANCE_SCALE + "')"));
            }
            batch = samples;
            if (raw && in.hasContents()) {
                throw InferException.invalid("input '" + t.name() + "' has typed contents while the request uses "
                        + "raw_input_contents; give every input one way");
            }
            long[] shape = in.getShapeList().stream().mapToLong(Long::longValue).toArray();
            long elements = Math.multiplyExact(b, TensorSpec.sampleElements(shape));
            ByteString bytes = raw ? req.getRawInputContents(i) : typed(t, in.getContents(), elements);
            long want = elements * t.dtype().bytes();
            if (bytes.size() != want) {
                throw InferException.invalid("input '" + t.name() + "' has " + bytes.size() + " bytes; shape "
                        + in.getShapeList() + " of " + t.dtype().wireName() + " needs " + want);
            }
            checkValues(t, bytes, hosted.int64Limits().get(t.name()));
            given.put(t.name(), bytes);
            shapes.put(t.name(), shape);
        }
        Map<String, Long> size = size(m, binding);
        TensorSpec cond = spec.input(CONDITIONING_INPUT);
        ByteString toStore = null;
        if (cond != null && contextId != null) {
            ByteString ctx = given.get(CONDITIONING_INPUT);
            if (ctx != null) {
                // content-addressed: an id is stored only with the bytes it names, so no caller can
                // make another prompt's id stand for its context
                String actual = Wire.contextId(ctx.asReadOnlyByteBuffer());
                if (!actual.equals(contextId)) {
                    throw InferException.invalid("context_id '" + contextId + "' does not name the 'context' "
                            + "input sent with it (its content id is '" + actual + "'); an id is the SHA-256 of the "
                            + "context's little-endian bytes");
                }
                toStore = ctx;
            } else {
                ByteString cached = cache.get(contextId);
                if (cached == null) {
                    throw new InferException(Status.Code.FAILED_PRECONDITION, "context_id '" + contextId
                            + "' is not cached on this worker; resend the 'context' input with it");
                }
                int contexts = Float.isNaN(guidance) ? batch : 2 * batch;
                if (batch >= 0 && cached.size() != (long) contexts * cond.sampleBytes()) {
                    throw InferException.invalid("context_id '" + contextId + "' holds " + cached.size() / cond.sampleBytes()
                            + " contexts but the request needs " + contexts);
                }
                given.put(CONDITIONING_INPUT, cached);
                shapes.put(CONDITIONING_INPUT, cond.withBatch(contexts));
            }
        }
        boolean guided = !Float.isNaN(guidance);
        int runBatch = guided ? 2 * batch : batch;
        List<ByteBuffer> ordered = new ArrayList<>(spec.inputs().size());
        List<long[]> orderedShapes = new ArrayList<>(spec.inputs().size());
        int[] repeats = guided ? new int[spec.inputs().size()] : null;
        for (TensorSpec t : spec.inputs()) {
            ByteString b = given.get(t.name());
            if (b == null) {
                throw InferException.invalid("missing input '" + t.name() + "' for model '" + m + "'"
                        + (t.name().equals(CONDITIONING_INPUT) ? " (or parameter 'context_id' naming a cached one)" : ""));
            }
            long[] shape = shapes.get(t.name());
            if (guided) {  // both branches see the same latent and timestep
                boolean both = !t.name().equals(CONDITIONING_INPUT);
                repeats[ordered.size()] = both ? 2 : 1;
                if (both) {
                    shape = shape.clone();
                    shape[0] = runBatch;
                }
            }
            ordered.add(b.asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN));
            orderedShapes.add(shape);
        }
        if (runBatch > maxBatch) {
            throw InferException.invalid("batch of " + runBatch + " samples" + (guided ? " (" + batch
                    + " guided pairs)" : "") + " exceeds max_batch_size " + maxBatch);
        }
        List<Integer> outputs = requestedOutputs(req, spec);
        // stored last: a request refused by any check above leaves the cache as it was
        String stored = toStore != null && cache.putIfAbsent(caller, contextId, toStore) ? contextId : null;
        return new Parsed(ordered, orderedShapes, size, runBatch, outputs, stored, guidance, batch, repeats);
    }

    /**
     * Parameter guidance_scale: NaN when absent; only for a model with a context input and one
     * floating output (a velocity model), a finite double_param 0 to 100.
     */
    private static float guidanceParam(Map<String, InferParameter> params, ModelEntry spec) throws InferException {
        InferParameter p = params.get(Wire.GUIDANCE_SCALE);
        if (p == null) {
            return Float.NaN;
        }
        if (spec.input(CONDITIONING_INPUT) == null || spec.outputs().size() != 1 || !spec.outputs().get(0).dtype().floating()) {
            throw InferException.invalid("parameter '" + Wire.GUIDANCE_SCALE + "' applies to velocity models only; '"
                    + spec.name() + "' has no 'context' input or not one floating output");
        }
        if (p.getParameterChoiceCase() != InferParameter.ParameterChoiceCase.DOUBLE_PARAM
                || !(p.getDoubleParam() >= 0 && p.getDoubleParam() <= 100)) {
            throw InferException.invalid("parameter '" + Wire.GUIDANCE_SCALE + "' must be a double_param 0 to 100; got "
                    + p.toString().trim());
        }
        return (float) p.getDoubleParam();
    }

    /**
     * The declared size whose symbols agree with what the request's shapes bound (empty for a
     * model without size symbols); refused, listing the accepted shapes, when none does.
     */
    private Map<String, Long> size(String m, Map<String, Long> bound) throws InferException {
        if (bound.isEmpty()) {
            return Map.of();
        }
        List<String> accepted = new ArrayList<>();
        for (VideoSize v : sizes) {
            Map<String, Long> full = v.binding();
            if (full.entrySet().containsAll(bound.entrySet())) {
                return full;
            }
            Map<String, Long> mine = new java.util.LinkedHashMap<>();
            bound.keySet().forEach(k -> mine.put(k, full.get(k)));
            accepted.add(v.name() + " " + mine);
        }
        throw InferException.invalid("model '" + m + "' got " + bound + ", which is no video size the family "
                + "declares; accepted: " + String.join(", ", accepted));
    }

    private static int checkShape(String m, TensorSpec t, ModelInferRequest.InferInputTensor in,
                                  Map<String, Long> binding) throws InferException {
        DType dt = DType.parse(in.getDatatype());
        if (dt != t.dtype() || !in.getDatatype().equals(t.dtype().wireName())) {
            throw InferException.invalid("input '" + t.name() + "' has datatype '" + in.getDatatype() + "'; model '"
                    + m + "' expects " + t.dtype().wireName());
        }
        List<Long> got = in.getShapeList();
        String mismatch = t.bind(got, binding);
        if (mismatch != null) {
            throw InferException.invalid("input '" + t.name() + "' has shape " + got + "; model '" + m + "' expects "
                    + t.shapeText() + " (-1 = batch): " + mismatch);
        }
        long b = got.get(0);
        if (b < 1) {
            throw InferException.invalid("input '" + t.name() + "' has batch dimension " + b + "; must be >= 1");
        }
        if (b > Integer.MAX_VALUE) {
            throw InferException.invalid("input '" + t.name() + "' has batch dimension " + b + "; too large");
        }
        return (int) b;
    }

    /** The typed contents fields by name and how many values each holds. */
    private static Map<String, Integer> contentCounts(InferTensorContents c) {
        Map<String, Integer> m = new java.util.LinkedHashMap<>();
        m.put("bool_contents", c.getBoolContentsCount());
        m.put("int_contents", c.getIntContentsCount());
        m.put("int64_contents", c.getInt64ContentsCount());
        m.put("uint_contents", c.getUintContentsCount());
        m.put("uint64_contents", c.getUint64ContentsCount());
        m.put("fp32_contents", c.getFp32ContentsCount());
        m.put("fp64_contents", c.getFp64ContentsCount());
        m.put("bytes_contents", c.getBytesContentsCount());
        return m;
    }

    private static ByteString typed(TensorSpec t, InferTensorContents c, long n) throws InferException {
        if (t.dtype() == DType.FP16 || t.dtype() == DType.BF16) {
            if (!contentCounts(c).values().stream().allMatch(v -> v == 0)) {
                throw InferException.invalid("input '" + t.name() + "' is " + t.dtype().wireName()
                        + ", which has no typed contents field in the protocol; send it in raw_input_contents");
            }
            throw InferException.invalid("input '" + t.name() + "' has no contents; a " + t.dtype().wireName()
                    + " input travels in raw_input_contents");
        }
        String field = t.dtype() == DType.FP32 ? "fp32_contents" : "int64_contents";
        for (Map.Entry<String, Integer> e : contentCounts(c).entrySet()) {
            if (e.getValue() > 0 && !e.getKey().equals(field)) {
                throw InferException.invalid("input '" + t.name() + "' has " + e.getValue() + " " + e.getKey()
                        + "; a " + t.dtype().wireName() + " input takes " + field + " only");
            }
        }
        if (n > Integer.MAX_VALUE) {
            throw InferException.invalid("input '" + t.name() + "' needs " + n + " typed values; too many, use "
                    + "raw_input_contents");
        }
        if (t.dtype() == DType.FP32) {
            if (c.getFp32ContentsCount() != n) {
                throw InferException.invalid("input '" + t.name() + "' has " + c.getFp32ContentsCount()
                        + " fp32_contents; its shape needs " + n + " (or use raw_input_contents)");
            }
            float[] a = new float[(int) n];
            for (int i = 0; i < n; i++) {
                a[i] = c.getFp32Contents(i);
            }
            return ByteString.copyFrom(Tensors.bytes(a));
        }
        if (c.getInt64ContentsCount() != n) {
            throw InferException.invalid("input '" + t.name() + "' has " + c.getInt64ContentsCount()
                    + " int64_contents; its shape needs " + n + " (or use raw_input_contents)");
        }
        long[] a = new long[(int) n];
        for (int i = 0; i < n; i++) {
            a[i] = c.getInt64Contents(i);
        }
        return ByteString.copyFrom(Tensors.bytes(a));
    }

    /** Floating inputs finite; an int64 input with a limit in [0, limit) (see {@link HostedModel#int64Limits}). */
    private static void checkValues(TensorSpec t, ByteString bytes, Long int64Limit) throws InferException {
        ByteBuffer b = bytes.asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
        if (t.dtype().floating()) {
            int bad = Tensors.firstNonFinite(b, t.dtype());
            if (bad >= 0) {
                throw InferException.invalid("input '" + t.name() + "' element " + bad + " is "
                        + Tensors.element(b, t.dtype(), bad) + "; inputs must be finite");
            }
        } else if (t.dtype() == DType.INT64 && int64Limit != null) {
            var l = b.asLongBuffer();
            for (int i = 0; i < l.remaining(); i++) {
                long v = l.get(i);
                if (v < 0 || v >= int64Limit) {
                    throw InferException.invalid("input '" + t.name() + "' element " + i + " is " + v + "; "
                            + accepted(t.name(), int64Limit));
                }
            }
        }
    }

    private static String accepted(String input, long limit) {
        if (input.equals(Wire.ATTENTION_MASK)) {
            return "must be 0 or 1 (1 for a token, 0 for padding)";
        }
        String what = input.equals(Wire.INPUT_IDS) ? " (the token ids of the family's tokenizer)" : "";
        return "must be in [0, " + limit + ")" + what;
    }

    private static List<Integer> requestedOutputs(ModelInferRequest req, ModelEntry spec) throws InferException {
        List<Integer> idx = new ArrayList<>();
        if (req.getOutputsCount() == 0) {
            for (int i = 0; i < spec.outputs().size(); i++) {
                idx.add(i);
            }
            return idx;
        }
        for (ModelInferRequest.InferRequestedOutputTensor o : req.getOutputsList()) {
            TensorSpec out = spec.output(o.getName());
            int i = out == null ? -1 : spec.outputs().indexOf(out);  // (an immutable list's indexOf(null) throws)
            if (i < 0) {
                throw InferException.invalid("model '" + spec.name() + "' has no output '" + o.getName()
                        + "'; outputs are " + names(spec.outputs()));
            }
            idx.add(i);
        }
        return idx;
    }

    static String stringParam(Map<String, InferParameter> params, String key) throws InferException {
        InferParameter p = params.get(key);
        if (p == null) {
            return null;
        }
        if (p.getParameterChoiceCase() != InferParameter.ParameterChoiceCase.STRING_PARAM
                || p.getStringParam().isEmpty() || p.getStringParam().length() > 256) {
            throw InferException.invalid("parameter '" + key + "' must be a non-empty string_param of at most 256 chars");
        }
        return p.getStringParam();
    }

    private static String names(List<TensorSpec> specs) {
        return specs.stream().map(TensorSpec::name).toList().toString();
    }
}
