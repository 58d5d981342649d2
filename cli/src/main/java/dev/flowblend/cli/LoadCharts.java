package dev.flowblend.cli;

import java.awt.Color;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * A sweep's pictures (XChart, as the calibration's): throughput against load and p95 latency
 * against load, one series per plan, points in load order. A point without the figure (nothing
 * completed) is left out of its series.
 */
final class LoadCharts {
    static final String THROUGHPUT = "throughput.png";
    static final String P95 = "p95.png";

    private LoadCharts() {
    }

    /**
     * Writes {@value #THROUGHPUT} and {@value #P95} into {@code dir} (created); returns the paths
     * written (a chart with no point to draw, e.g. p95 when nothing completed, is not written).
     */
    static List<Path> write(List<Map<String, Object>> points, boolean open, Path dir) throws IOException {
        if (System.getProperty("java.awt.headless") == null) {
            System.setProperty("java.awt.headless", "true");  // a chart needs no display
        }
        Files.createDirectories(dir);
        String x = open ? "offered load (videos/s, Poisson arrivals)" : "concurrency (generations in flight)";
        List<Path> written = new ArrayList<>();
        Path throughput = dir.resolve(THROUGHPUT);
        if (chart(points, "throughput_per_s", "throughput against load", x, "completed videos/s", throughput)) {
            written.add(throughput);
        }
        Path p95 = dir.resolve(P95);
        if (chart(points, "p95_ms", "p95 latency against load" + (open ? " (from the scheduled arrival)" : ""), x,
                "p95 latency (ms)", p95)) {
            written.add(p95);
        }
        return written;
    }

    private static boolean chart(List<Map<String, Object>> points, String figure, String title, String xAxis,
                              String yAxis, Path png) throws IOException {
        XYChart chart = new XYChartBuilder().width(900).height(480).title(title).xAxisTitle(xAxis).yAxisTitle(yAxis)
                .build();
        chart.getStyler().setChartBackgroundColor(Color.WHITE);
        chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideNW);
        Map<String, List<double[]>> series = series(points, figure);
        if (series.values().stream().allMatch(List::isEmpty)) {
            return false;
        }
        for (Map.Entry<String, List<double[]>> e : series.entrySet()) {
            if (e.getValue().isEmpty()) {
                continue;
            }
            double[] xs = e.getValue().stream().mapToDouble(p -> p[0]).toArray();
            double[] ys = e.getValue().stream().mapToDouble(p -> p[1]).toArray();
            chart.addSeries(e.getKey(), xs, ys).setMarker(SeriesMarkers.CIRCLE);
        }
        BitmapEncoder.saveBitmap(chart, png.toString(), BitmapEncoder.BitmapFormat.PNG);
        return true;
    }

    /** Per plan (first-seen order), the (load, figure) pairs sorted by load; points lacking the figure left out. */
    static Map<String, List<double[]>> series(List<Map<String, Object>> points, String figure) {
        Map<String, List<double[]>> out = new LinkedHashMap<>();
        for (Map<String, Object> p : points) {
            List<double[]> s = out.computeIfAbsent((String) p.get("plan"), k -> new ArrayList<>());
            Object load = p.containsKey("rate") ? p.get("rate") : p.get("concurrency");
            Object y = p.get(figure);
            if (y instanceof Number n && load instanceof Number l) {
                s.add(new double[] {l.doubleValue(), n.doubleValue()});
            }
        }
        out.values().forEach(s -> s.sort((a, b) -> Double.compare(a[0], b[0])));
        return out;
    }
}
