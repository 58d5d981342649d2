package dev.flowblend.cli;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The figures of a {@link TransportBench.Result}: bytes per step and their cut against mode a,
 * medians of the step as the client sees it and of the echo of the same bytes, their ratio with a
 * 95% bootstrap interval over runs, and the worker's own queue and model time. Stateless.
 */
final class TransportReport {
    /** The targets of issue 12: mode c moves at least 2.5x fewer bytes than a; a step costs at most 1.5x its echo. */
    static final double CUT_TARGET = 2.5;
    static final double ECHO_TARGET = 1.5;

    private TransportReport() {
    }

    /** The JSON summary: every figure the table shows, per mode. */
    static Map<String, Object> summary(TransportBench.Result r) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("transport", true);
        out.put("size", r.size());
        out.put("latent_shape", r.latentShape());
        out.put("context_shape", r.contextShape());
        out.put("guidance_scale", r.guidance());
        out.put("runs", r.runs());
        out.put("warmup", r.warmup());
        out.put("steps_per_run", r.steps());
        TransportBench.ModeResult a = r.modes().get(0);
        Map<String, Object> modes = new LinkedHashMap<>();
        for (TransportBench.ModeResult m : r.modes()) {
            Map<String, Object> e = new LinkedHashMap<>();
            double bytes = m.requests().mean() + m.replies().mean();
            e.put("label", m.mode().label());
            e.put("request_bytes", List.of(m.requests().min(), m.requests().max()));
            e.put("reply_bytes", List.of(m.replies().min(), m.replies().max()));
            e.put("bytes_per_step", round(bytes));
            e.put("tensor_bytes_per_step", m.payloadIn() + m.payloadOut());
            e.put("protocol_bytes_per_step", round(bytes - m.payloadIn() - m.payloadOut()));
            e.put("tensor_bytes_in", m.payloadIn());
            e.put("tensor_bytes_out", m.payloadOut());
            e.put("echo_bytes_per_step", m.echoIn() + m.echoOut());
            e.put("bytes_cut_vs_a", round((a.requests().mean() + a.replies().mean()) / bytes));
            List<Double> steps = flat(m.stepMs());
            List<Double> echoes = flat(m.echoMs());
            e.put("recorded_steps", steps.size());
            e.put("step_ms", round(BenchCommand.median(steps)));
            e.put("step_p90_ms", round(BenchCommand.percentile(steps, 0.9)));
            e.put("echo_ms", round(BenchCommand.median(echoes)));
            e.put("echo_p90_ms", round(BenchCommand.percentile(echoes, 0.9)));
            e.put("step_over_echo", round(BenchCommand.median(steps) / BenchCommand.median(echoes)));
            double[] ci = Bootstrap.interval95(m.stepMs().size(), idx -> BenchCommand.median(pick(m.stepMs(), idx))
                    / BenchCommand.median(pick(m.echoMs(), idx)), 2000, 1);
            e.put("step_over_echo_ci95", List.of(round(ci[0]), round(ci[1])));
            List<Double> paired = new ArrayList<>();
            List<Double> beyondModel = new ArrayList<>();
            for (int i = 0; i < steps.size(); i++) {  // each step has its echo, right after or right before it
                paired.add(steps.get(i) / echoes.get(i));
                beyondModel.add(steps.get(i) - m.computeMs().get(i));
            }
            e.put("step_over_echo_paired", round(BenchCommand.median(paired)));
            e.put("step_beyond_model_over_echo", round(BenchCommand.median(beyondModel) / BenchCommand.median(echoes)));
            e.put("step_over_a", round(BenchCommand.median(steps) / BenchCommand.median(flat(a.stepMs()))));
            e.put("worker_queue_ms", round(BenchCommand.median(m.queueMs())));
            e.put("worker_compute_ms", round(BenchCommand.median(m.computeMs())));
            e.put("echo_mb_per_s", round(bytes / 1e3 / BenchCommand.median(echoes)));
            e.put("step_mb_per_s", round(bytes / 1e3 / BenchCommand.median(steps)));
            e.put("velocities_bitwise_equal_latent", m.verifiedSteps());
            e.put("unsteady_steps_repeated", m.unsteadySteps());
            modes.put(m.mode().key(), e);
        }
        out.put("modes", modes);
        TransportBench.ModeResult c = r.modes().get(r.modes().size() - 1);
        out.put("bytes_cut_c_vs_a", ((Map<?, ?>) modes.get(c.mode().key())).get("bytes_cut_vs_a"));
        out.put("targets", Map.of("bytes_cut_c_vs_a_min", CUT_TARGET, "step_over_echo_max", ECHO_TARGET));
        out.put("wall_s", round(r.wallSeconds()));
        return out;
    }

    static void table(TransportBench.Result r, Map<String, Object> s, PrintStream out) {
        out.println();
        out.printf(Locale.ROOT, "transport at %s: latent %s, context %s (cached on the worker), guidance %.1f; "
                        + "%d runs x %d steps per mode (+%d warm-up runs)%n", r.size(), Arrays.toString(r.latentShape()),
                Arrays.toString(r.contextShape()), r.guidance(), r.runs(), r.steps(), r.warmup());
        out.printf(Locale.ROOT, "%-4s %-38s %11s %11s %8s %9s %9s %10s %17s %7s %9s %9s %9s%n", "mode", "",
                "in MB/step", "out MB/step", "cut", "step ms", "echo ms", "step/echo", "95% interval", "paired",
                "-model", "queue ms", "model ms");
        Map<?, ?> modes = (Map<?, ?>) s.get("modes");
        for (TransportBench.ModeResult m : r.modes()) {
            Map<?, ?> e = (Map<?, ?>) modes.get(m.mode().key());
            out.printf(Locale.ROOT, "%-4s %-38s %11.3f %11.3f %7.2fx %9.1f %9.1f %9.2fx %17s %6.2fx %8.2fx %9.2f %9.2f%n",
                    m.mode().key(), m.mode().label(), m.requests().mean() / 1e6, m.replies().mean() / 1e6,
                    e.get("bytes_cut_vs_a"), e.get("step_ms"), e.get("echo_ms"), e.get("step_over_echo"),
                    e.get("step_over_echo_ci95"), e.get("step_over_echo_paired"), e.get("step_beyond_model_over_echo"),
                    e.get("worker_queue_ms"), e.get("worker_compute_ms"));
        }
        out.printf(Locale.ROOT, "%nbytes per step, c vs a: %.2fx fewer (target >= %.1fx); step / echo of the same bytes: "
                        + "target <= %.1fx (paired: median of each step over its own echo, run next to it; -model: the step "
                        + "less the worker's model time, over the echo). Bytes are message bytes counted on the servers; "
                        + "every velocity was bitwise the latent.%n", s.get("bytes_cut_c_vs_a"), CUT_TARGET, ECHO_TARGET);
    }

    private static List<Double> flat(List<List<Double>> runs) {
        List<Double> out = new ArrayList<>();
        runs.forEach(out::addAll);
        return out;
    }

    private static List<Double> pick(List<List<Double>> runs, int[] idx) {
        List<Double> out = new ArrayList<>();
        for (int i : idx) {
            out.addAll(runs.get(i));
        }
        return out;
    }

    private static double round(double v) {
        return Math.round(v * 1000) / 1000.0;
    }
}
