package dev.flowblend.calibration;

import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.markers.SeriesMarkers;

/** The calibration's pictures: the divergence curve (XChart) and a grid of frames per plan (Java2D). */
public final class Charts {
    private Charts() {
    }

    /** Mean relative L2 divergence per step with its spread, 1 - cosine, and the chosen boundaries. */
    public static void divergence(List<Divergence.Step> steps, List<Integer> boundaries, String title, Path png)
            throws IOException {
        int n = steps.size();
        double[] x = new double[n], rel = new double[n], err = new double[n], oneMinusCos = new double[n];
        double max = 0;
        for (int i = 0; i < n; i++) {
            Divergence.Step s = steps.get(i);
            x[i] = s.step();
            rel[i] = s.meanRelL2();
            err[i] = s.stdRelL2();
            oneMinusCos[i] = 1 - s.meanCosine();
            max = Math.max(max, rel[i] + err[i]);
        }
        XYChart chart = new XYChartBuilder().width(900).height(480).title(title)
                .xAxisTitle("sampling step (0 = pure noise)").yAxisTitle("divergence").build();
        chart.getStyler().setChartBackgroundColor(Color.WHITE);
        chart.getStyler().setLegendPosition(org.knowm.xchart.style.Styler.LegendPosition.InsideN);
        XYSeries r = chart.addSeries("||v_L - v_S|| / ||v_L|| (mean, +/- 1 sd)", x, rel, err);
        r.setMarker(SeriesMarkers.CIRCLE);
        XYSeries c = chart.addSeries("1 - cos(v_L, v_S)", x, oneMinusCos);
        c.setMarker(SeriesMarkers.NONE);
        for (int b : boundaries) {
            XYSeries line = chart.addSeries("boundary at step " + b, new double[] {b - 0.5, b - 0.5},
                    new double[] {0, max * 1.05});
            line.setMarker(SeriesMarkers.NONE);
            line.setLineColor(Color.RED);
        }
        BitmapEncoder.saveBitmap(chart, png.toString(), BitmapEncoder.BitmapFormat.PNG);
    }

    /**
     * Quality against cost for a sweep: one chart per metric (accuracy, Fréchet, similarity), FLOPs
     * saving on x, a series per solver for large-only and for the 40/40/20 split, and the
     * tolerance's limit as a line. Writes {@code quality-cost-<metric>.png} into {@code dir}.
     */
    public static void qualityCost(List<Sweep.Row> rows, java.util.Map<String, PlanQuality> measured,
                                   PlanQuality largeOnly, Tolerances tol, Path dir) throws IOException {
        record Metric(String name, String axis, java.util.function.ToDoubleFunction<PlanQuality> of, double limit) {
        }
        List<Metric> metrics = List.of(
                new Metric("accuracy", "prompt accuracy", PlanQuality::accuracy,
                        tol.minAccuracyRatio() * largeOnly.accuracy()),
                new Metric("frechet", "Fréchet distance (lower is better)", PlanQuality::frechet,
                        tol.maxFrechetRatio() * largeOnly.frechet()),
                new Metric("similarity", "feature similarity to large-only", PlanQuality::similarity,
                        tol.minSimilarity()));
        for (Metric m : metrics) {
            XYChart chart = new XYChartBuilder().width(900).height(480)
                    .title(m.name() + " against FLOPs saving (reference: 50-step large-only)")
                    .xAxisTitle("velocity FLOPs saved vs 50-step large-only (%)").yAxisTitle(m.axis()).build();
            chart.getStyler().setChartBackgroundColor(Color.WHITE);
            chart.getStyler().setLegendPosition(org.knowm.xchart.style.Styler.LegendPosition.OutsideE);
            java.util.Map<String, List<double[]>> series = new java.util.LinkedHashMap<>();
            for (Sweep.Row r : rows) {
                add(series, r.config().solver().name() + " large-only", measured.get(r.largeOnly().name()), m.of());
                add(series, r.config().solver().name() + " 40/40/20", measured.get(r.flowblending().name()), m.of());
            }
            double lo = 100, hi = 0;
            for (java.util.Map.Entry<String, List<double[]>> e : series.entrySet()) {
                double[] x = e.getValue().stream().mapToDouble(p -> p[0]).toArray();
                double[] y = e.getValue().stream().mapToDouble(p -> p[1]).toArray();
                for (double v : x) {
                    lo = Math.min(lo, v);
                    hi = Math.max(hi, v);
                }
                chart.addSeries(e.getKey(), x, y).setMarker(SeriesMarkers.CIRCLE);
            }
            XYSeries limit = chart.addSeries("tolerance limit", new double[] {lo, hi}, new double[] {m.limit(), m.limit()});
            limit.setMarker(SeriesMarkers.NONE);
            limit.setLineColor(Color.RED);
            BitmapEncoder.saveBitmap(chart, dir.resolve("quality-cost-" + m.name() + ".png").toString(),
                    BitmapEncoder.BitmapFormat.PNG);
        }
    }

    private static void add(java.util.Map<String, List<double[]>> series, String name, PlanQuality q,
                            java.util.function.ToDoubleFunction<PlanQuality> metric) {
        if (q != null) {
            series.computeIfAbsent(name, k -> new java.util.ArrayList<>())
                    .add(new double[] {100 * q.flopsSaving(), metric.applyAsDouble(q)});
        }
    }

    /** Rows of frames: one row per (label, video [F, H, W, 3]), every {@code stride}-th frame, zoomed. */
    public static void frameGrid(List<String> labels, List<float[]> videos, int[] shape, int stride, int zoom, Path png)
            throws IOException {
        int f = shape[0], h = shape[1], w = shape[2];
        int cols = (f + stride - 1) / stride;
        int labelWidth = 190, pad = 2;
        int tileW = w * zoom, tileH = h * zoom;
        BufferedImage img = new BufferedImage(labelWidth + cols * (tileW + pad), videos.size() * (tileH + pad),
                BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, img.getWidth(), img.getHeight());
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
        for (int r = 0; r < videos.size(); r++) {
            int y0 = r * (tileH + pad);
            g.setColor(Color.BLACK);
            g.drawString(labels.get(r), 6, y0 + tileH / 2 + 5);
            float[] v = videos.get(r);
            for (int c = 0; c < cols; c++) {
                int frame = c * stride;
                for (int y = 0; y < tileH; y++) {
                    for (int x = 0; x < tileW; x++) {
                        int i = ((frame * h + y / zoom) * w + x / zoom) * 3;
                        int rgb = (clamp(v[i]) << 16) | (clamp(v[i + 1]) << 8) | clamp(v[i + 2]);
                        img.setRGB(labelWidth + c * (tileW + pad) + x, y0 + y, rgb);
                    }
                }
            }
        }
        g.dispose();
        ImageIO.write(img, "png", png.toFile());
    }

    private static int clamp(float v) {
        return Math.round(Math.max(0f, Math.min(1f, v)) * 255f);
    }
}
