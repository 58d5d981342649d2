package dev.flowblend.calibration;

import dev.flowblend.runtime.Json;
import dev.flowblend.runtime.ModelFamily;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Writes a calibration run's files: CSV and JSON of every measurement, the divergence curve, charts. */
final class Outputs {
    private Outputs() {
    }

    static void write(Calibrator.Report r, Map<String, Evaluation.Run> runs, Calibrator.Options o, ModelFamily family,
                      Search.Result search) throws IOException {
        Path dir = o.outDir();
        StringBuilder div = new StringBuilder("step,sigma,mean_rel_l2,std_rel_l2,mean_cosine,std_cosine,"
                + "large_change,small_change\n");
        for (Divergence.Step s : r.divergence()) {
            div.append(String.format(Locale.ROOT, "%d,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f%n", s.step(), s.sigma(),
                    s.meanRelL2(), s.stdRelL2(), s.meanCosine(), s.stdCosine(), s.largeChange(), s.smallChange()));
        }
        Files.writeString(dir.resolve("divergence.csv"), div);
        List<String> heads = new ArrayList<>(r.largeOnly().attributeAccuracy().keySet());
        StringBuilder csv = new StringBuilder("plan,segments,samples,flops,flops_saving,wall_ms_per_video,accuracy,"
                + String.join(",", heads.stream().map(h -> "accuracy_" + h).toList())
                + ",frechet,similarity,psnr,ssim,motion_similarity,passes,violations\n");
        for (PlanQuality q : r.measured().values()) {
            csv.append(String.format(Locale.ROOT, "%s,\"%s\",%d,%.6g,%.4f,%.3f,%.4f,", q.plan(), q.segments(), q.samples(),
                    q.flops(), q.flopsSaving(), q.wallMs(), q.accuracy()));
            for (String h : heads) {
                csv.append(String.format(Locale.ROOT, "%.4f,", q.attributeAccuracy().get(h)));
            }
            List<String> v = r.violations().get(q.plan());
            csv.append(String.format(Locale.ROOT, "%.4f,%.4f,%.3f,%.4f,%.4f,%s,\"%s\"%n", q.frechet(), q.similarity(),
                    q.psnr(), q.ssim(), q.motionSimilarity(), v.isEmpty(), String.join("; ", v)));
        }
        Files.writeString(dir.resolve("measurements.csv"), csv);
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("tolerances", o.tolerances());
        json.put("samples", o.samples());
        json.put("seed_offset", o.seedOffset());
        json.put("divergence_by_phase", r.divergenceByPhase());
        json.put("divergence", r.divergence());
        json.put("measurements", r.measured().values());
        json.put("violations", r.violations());
        List<Map<String, Object>> order = new ArrayList<>();
        for (int i = 0; i < search.evaluated().size(); i++) {
            Search.Candidate c = search.evaluated().get(i);
            order.add(Map.of("plan", c.plan().name(), "divergence_cost", c.divergenceCost(), "flops", c.flops(),
                    "passes", search.passed().get(i)));
        }
        json.put("search_order", order);
        if (r.sweep() != null) {
            List<Map<String, Object>> rows = new ArrayList<>();
            for (Sweep.Row row : r.sweep().rows()) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("config", row.config().name());
                m.put("large_only_passes", row.largeOnlyPasses());
                m.put("flowblending_passes", row.flowblendingPasses());
                m.put("cheapest_flowblending", row.search() == null || row.search().chosen() == null ? null
                        : row.search().chosen().plan().name());
                rows.add(m);
            }
            json.put("sweep", rows);
            Charts.qualityCost(r.sweep().rows(), r.measured(), r.largeOnly(), o.tolerances(), dir);
        }
        json.put("chosen", r.chosen());
        Files.writeString(dir.resolve("measurements.json"), Json.write(json) + "\n");
        int steps = r.divergence().size();
        Charts.divergence(r.divergence(), Calibrator.boundaries(r.chosen(), steps),
                "Velocity divergence of the small model along the large model's trajectory ("
                        + family.manifest().family() + ")", dir.resolve("divergence.png"));
        List<String> labels = new ArrayList<>();
        List<float[]> videos = new ArrayList<>();
        for (String name : List.of("LLL", "SSS", "SLL", "LSS", "LSL")) {
            Evaluation.Run run = runs.get(name);
            if (run != null) {
                labels.add(name + " (" + r.measured().get(name).segments() + ")");
                videos.add(run.videos().video(0));
            }
        }
        String chosenName = r.chosenQuality().plan();
        if (!chosenName.equals("LLL") && runs.containsKey(chosenName)) {
            labels.add("calibrated " + r.chosen().describe());
            videos.add(runs.get(chosenName).videos().video(0));
        }
        int[] shape = r.divergence().isEmpty() ? null : family.conventions().videoShape();
        Charts.frameGrid(labels, videos, shape, 2, 3, dir.resolve("grid.png"));
    }
}
