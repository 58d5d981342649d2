package dev.flowblend.orchestrator;

import dev.flowblend.proto.generation.BoundaryUnit;
import dev.flowblend.proto.generation.GenerateRequest;
import dev.flowblend.proto.generation.VideoFormat;
import dev.flowblend.proto.generation.Plan;
import dev.flowblend.proto.generation.Segment;
import dev.flowblend.orchestrator.solver.HistoryAtSwitch;
import dev.flowblend.orchestrator.solver.Sampling;
import dev.flowblend.orchestrator.solver.Solver;
import dev.flowblend.orchestrator.solver.StepReuse;
import dev.flowblend.runtime.Manifest;
import dev.flowblend.runtime.TokenizedPrompt;
import dev.flowblend.runtime.Tokenizer;
import dev.flowblend.runtime.VideoSize;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Turns a GenerateRequest into a {@link GenerationSpec}, or refuses it with a message that names
 * the field and the limit (the service answers INVALID_ARGUMENT with it). Thread-safe.
 */
final class GenerationRequests {
    static final int MAX_PROGRESS_INTERVAL_MS = 60_000;

    private final PromptEncoder prompts;
    private final Manifest.Conventions conventions;
    private final OrchestratorConfig.Limits limits;
    private final Map<String, StagePlan> plans;
    private final StagePlan defaultPlan;
    private final Generator generator;

    GenerationRequests(Generator generator, OrchestratorConfig.Limits limits, Map<String, StagePlan> plans,
                       StagePlan defaultPlan) {
        this.generator = generator;
        this.prompts = generator.prompts();
        this.conventions = generator.family().conventions();
        this.limits = limits;
        this.plans = Map.copyOf(plans);
        this.defaultPlan = defaultPlan;
    }

    /** A refused request; the message is the status description. */
    static final class Invalid extends Exception {
        private static final long serialVersionUID = 1L;

        Invalid(String message) {
            super(message, null, false, false);
        }
    }

    GenerationSpec parse(GenerateRequest r) throws Invalid {
        // trim drops control characters and ASCII spaces, strip every Unicode space: a prompt of
        // only U+2003 (em space) says nothing and must be refused like an empty one
        String prompt = r.getPrompt().trim().strip();
        if (prompt.isEmpty()) {
            throw new Invalid("prompt is empty; describe the video (e.g. \"a red circle moving right\")");
        }
        checkLength("prompt", r.getPrompt());
        checkLength("negative_prompt", r.getNegativePrompt());
        TokenizedPrompt ids = tokens("prompt", prompt);
        // an empty negative prompt takes the family's (WAN's pipelines have one; the bundled family's is empty)
        TokenizedPrompt neg = tokens("negative_prompt", r.getNegativePrompt().isEmpty() ? conventions.negativePrompt()
                : r.getNegativePrompt());
        StagePlan plan = plan(r);
        // a field the request leaves unset takes the plan's value, else the family's
        int steps = r.getSteps() != 0 ? r.getSteps() : plan.steps() != null ? plan.steps() : conventions.defaultSteps();
        if (r.getSteps() < 0 || steps > limits.maxSteps()) {
            String field = r.getSteps() != 0 ? "steps" : "plan '" + plan.name() + "' steps";
            throw new Invalid(field + " is " + Integer.toUnsignedString(steps) + "; must be 1 to " + limits.maxSteps()
                    + " (0 means the plan's, else the default, " + conventions.defaultSteps() + ")");
        }
        Sampling fromPlan = plan.sampling(generator.defaultSolver());
        Solver solver;
        HistoryAtSwitch history;
        try {
            solver = r.getSolver().isEmpty() ? fromPlan.solver() : Solver.named(r.getSolver(), "solver");
            history = r.getSolverHistory().isEmpty() ? fromPlan.history()
                    : HistoryAtSwitch.parse(r.getSolverHistory(), "solver_history");
        } catch (IllegalArgumentException e) {
            throw new Invalid(e.getMessage() + " (empty: the plan's, else the family's)");
        }
        StepReuse reuse = fromPlan.reuse();
        if (r.hasReuseBudget()) {
            double b = r.getReuseBudget();
            if (!(b >= 0 && b <= 1)) {
                throw new Invalid("reuse_budget is " + b + "; must be 0 to 1 (0 reuses nothing)");
            }
            if (reuse == null && b > 0) {
                throw new Invalid("reuse_budget is " + b + " but plan '" + plan.name() + "' has no calibrated reuse "
                        + "curve (a plan file's \"reuse\", written by calibrate); send 0 or no budget");
            }
            reuse = reuse == null ? null : reuse.withBudget(b);
        }
        Sampling sampling = new Sampling(solver, history, reuse);
        double g = r.hasGuidanceScale() ? r.getGuidanceScale() : conventions.defaultGuidanceScale();
        if (!(g >= 1.0 && g <= limits.maxGuidanceScale())) {
            throw new Invalid("guidance_scale is " + g + "; must be 1 to " + limits.maxGuidanceScale()
                    + " (1 disables guidance)");
        }
        // uint32 fields arrive as Java ints: compare them unsigned, or 2^31 and more would pass as negatives
        if (Integer.toUnsignedLong(r.getVideoScale()) > 16) {
            throw new Invalid("video_scale is " + Integer.toUnsignedString(r.getVideoScale())
                    + "; must be 1 to 16 (0 means the default)");
        }
        if (r.getFormat() == VideoFormat.UNRECOGNIZED) {
            throw new Invalid("format is " + r.getFormatValue() + "; must be one of "
                    + java.util.Arrays.stream(VideoFormat.values()).filter(f -> f != VideoFormat.UNRECOGNIZED)
                    .map(VideoFormat::name).toList() + " (unset: MP4)");
        }
        if (!r.getGenerationId().isEmpty() && !r.getGenerationId().matches("[A-Za-z0-9_-]{1,64}")) {
            throw new Invalid("generation_id '" + r.getGenerationId() + "' must be 1-64 of [A-Za-z0-9_-]");
        }
        if (r.hasProgressIntervalMs() && Integer.toUnsignedLong(r.getProgressIntervalMs()) > MAX_PROGRESS_INTERVAL_MS) {
            throw new Invalid("progress_interval_ms is " + Integer.toUnsignedString(r.getProgressIntervalMs())
                    + "; must be 0 to " + MAX_PROGRESS_INTERVAL_MS + " (0: every step; unset: the orchestrator's default)");
        }
        VideoSize size = size(r);
        int fps = fps(r);
        try {
            generator.resolve(plan, steps, size);
            return new GenerationSpec(prompt, ids, neg, r.getSeed(), steps, g, plan, size, fps, sampling);
        } catch (IllegalArgumentException e) {
            throw new Invalid(e.getMessage());
        }
    }

    /** frames x height x width, each 0 for the default size's, must be a size the family declares. */
    private VideoSize size(GenerateRequest r) throws Invalid {
        VideoSize d = conventions.defaultVideoSize();
        int frames = r.getFrames() == 0 ? d.frames() : r.getFrames();
        int height = r.getHeight() == 0 ? d.height() : r.getHeight();
        int width = r.getWidth() == 0 ? d.width() : r.getWidth();
        VideoSize v = conventions.size(frames, height, width);
        if (v == null) {
            throw new Invalid("frames x height x width is " + Integer.toUnsignedString(frames) + "x"
                    + Integer.toUnsignedString(height) + "x" + Integer.toUnsignedString(width)
                    + ", which is not a size the model family declares; accepted: "
                    + String.join(", ", conventions.videoSizes().stream().map(VideoSize::describe).toList())
                    + " (0 for any of them takes the default, " + d.describe() + ")");
        }
        return v;
    }

    private int fps(GenerateRequest r) throws Invalid {
        if (r.getFps() == 0) {
            return conventions.defaultFrameRate();
        }
        for (int f : conventions.frameRates()) {
            if (f == r.getFps()) {
                return f;
            }
        }
        throw new Invalid("fps is " + Integer.toUnsignedString(r.getFps()) + "; the model family accepts "
                + java.util.Arrays.toString(conventions.frameRates()) + " (0 means the default, "
                + conventions.defaultFrameRate() + ")");
    }

    private void checkLength(String field, String text) throws Invalid {
        if (text.length() > limits.maxPromptChars()) {
            throw new Invalid(field + " has " + text.length() + " characters; the limit is " + limits.maxPromptChars());
        }
    }

    private TokenizedPrompt tokens(String field, String text) throws Invalid {
        try {
            return prompts.tokens(text);
        } catch (Tokenizer.PromptException e) {
            throw new Invalid(field + " " + e.getMessage());
        }
    }

    private StagePlan plan(GenerateRequest r) throws Invalid {
        if (!r.hasPlan() || r.getPlan().getKindCase() == Plan.KindCase.KIND_NOT_SET) {
            return defaultPlan;
        }
        Plan p = r.getPlan();
        if (p.getKindCase() == Plan.KindCase.PRESET) {
            StagePlan named = plans.get(p.getPreset());
            if (named == null) {
                throw new Invalid("plan.preset '" + p.getPreset() + "' is unknown; known plans: "
                        + plans.keySet().stream().sorted().toList());
            }
            return named;
        }
        List<StagePlan.Segment> segs = new ArrayList<>();
        try {
            for (Segment s : p.getSegments().getSegmentsList()) {
                segs.add(new StagePlan.Segment(s.getPool(), s.getEnd()));
            }
            StagePlan.Unit unit = p.getSegments().getUnit() == BoundaryUnit.SIGMA
                    ? StagePlan.Unit.SIGMA : StagePlan.Unit.STEP_FRACTION;
            return new StagePlan("custom", unit, segs);
        } catch (IllegalArgumentException e) {
            throw new Invalid("plan.segments: " + e.getMessage());
        }
    }
}
