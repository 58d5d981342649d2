package dev.flowblend.cli;

import dev.flowblend.runtime.GoldenCheck;
import dev.flowblend.runtime.ModelEntry;
import dev.flowblend.runtime.ModelFamily;
import dev.flowblend.runtime.RuntimeOptions;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Checks a model family directory: every file against its sha256 (as every process does at load),
 * then every model that ships a golden in ONNX Runtime against the outputs the exporter computed
 * (models/export writes them). Exit 0 when all pass, 1 otherwise; the table goes to stdout.
 */
@Command(name = "verify", mixinStandardHelpOptions = true,
        description = "Check a model family: checksums, then each model's golden outputs in ONNX Runtime.")
final class VerifyCommand implements Callable<Integer> {
    @Option(names = "--models", description = "Model directory (default: the bundled models/).")
    Path models;

    @Option(names = "--tolerance", description = "Largest error relative to the output's scale, max(1, max|golden|) "
            + "(default: ${DEFAULT-VALUE}); BF16/FP16 outputs may also differ by one unit in their last place.")
    double tolerance = GoldenCheck.DEFAULT_TOLERANCE;

    @Option(names = "--threads", description = "ONNX Runtime intra-op threads (default: ${DEFAULT-VALUE}).")
    int threads = 1;

    @Override
    public Integer call() throws Exception {
        if (threads < 1 || threads > 256) {
            throw new IllegalArgumentException("--threads is " + threads + "; must be 1..256");
        }
        ModelFamily family = Launcher.family(models, null);
        List<GoldenCheck.Outcome> outcomes = GoldenCheck.run(family, RuntimeOptions.cpu(threads), tolerance);
        System.out.println("family " + family.manifest().family() + " (" + family.dir() + "): checksums match");
        for (ModelEntry e : family.models()) {
            if (e.golden() == null) {
                System.out.println(e.name() + ": no golden");
            }
        }
        boolean ok = true;
        for (GoldenCheck.Outcome o : outcomes) {
            ok &= o.passed();
            System.out.println(String.format(Locale.ROOT, "%s.%s: %s  %d elements, max |error| %.3g, scale %.3g, "
                            + "relative %.3g (tolerance %.0e), %d beyond it (allowed only within one unit in the last place)",
                    o.model(), o.output(), o.passed() ? "PASS" : "FAIL", o.elements(), o.maxAbsError(), o.scale(),
                    o.relativeError(), tolerance, o.beyondFp32Tolerance()));
        }
        if (outcomes.isEmpty()) {
            System.out.println("no model ships a golden: nothing to compare");
        }
        return ok ? 0 : 1;
    }
}
