package dev.flowblend.cli;

import dev.flowblend.proto.generation.Progress;
import java.io.PrintStream;
import java.util.Locale;

/** A one-line terminal progress bar for sampling steps (redrawn with carriage returns on stderr). */
final class ProgressBar {
    private static final int WIDTH = 30;
    private final PrintStream out;
    private final String label;
    private final boolean terminal = System.console() != null;

    ProgressBar(PrintStream out, String label) {
        this.out = out;
        this.label = label;
    }

    void update(Progress p) {
        int done = p.getStep() + 1;
        if (!terminal && done % Math.max(1, p.getSteps() / 10) != 0 && done != p.getSteps()) {
            return;  // redirected output: a line every 10% instead of a redraw per step
        }
        int filled = (int) Math.round((double) WIDTH * done / Math.max(1, p.getSteps()));
        out.print(String.format(Locale.ROOT, "%s%s [%s%s] %d/%d  sigma %.3f  %-6s %-10s %6.2f ms", terminal ? "\r" : "", label,
                "#".repeat(filled), ".".repeat(WIDTH - filled), done, p.getSteps(), p.getSigma(), p.getPool(),
                p.getWorker(), p.getMillis()));
        if (done == p.getSteps() || !terminal) {
            out.println();
        }
        out.flush();
    }
}
