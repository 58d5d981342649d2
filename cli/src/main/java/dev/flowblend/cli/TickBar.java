package dev.flowblend.cli;

import java.io.PrintStream;
import java.util.Locale;

/** A progress bar over a known number of work units, redrawn on stderr at most every 200 ms. */
final class TickBar implements Runnable {
    private final PrintStream out;
    private final String label;
    private final int total;
    private final long start = System.nanoTime();
    private final boolean terminal = System.console() != null;
    private int done;
    private long lastDraw;
    private int lastPercent = -1;

    TickBar(PrintStream out, String label, int total) {
        this.out = out;
        this.label = label;
        this.total = Math.max(1, total);
    }

    @Override
    public synchronized void run() {
        done++;
        long now = System.nanoTime();
        int percent = Math.min(100, 100 * done / total);
        if (!terminal) {
            // redirected output: one line per 10%
            if (percent / 10 != lastPercent / 10) {
                lastPercent = percent;
                out.println(String.format(Locale.ROOT, "%s %3d%%  %5.0f s", label, percent, (now - start) / 1e9));
            }
            return;
        }
        if (now - lastDraw > 200_000_000L || done >= total) {
            lastDraw = now;
            int filled = Math.min(30, 30 * done / total);
            double secs = (now - start) / 1e9;
            out.print(String.format(Locale.ROOT, "\r%s [%s%s] %3d%%  %5.0f s", label, "#".repeat(filled),
                    ".".repeat(30 - filled), percent, secs));
            out.flush();
        }
    }

    synchronized void finish() {
        out.println(String.format(Locale.ROOT, "\r%s done in %.0f s%s", label, (System.nanoTime() - start) / 1e9,
                " ".repeat(40)));
    }
}
