package dev.flowblend.runtime;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The WAN-shaped stand-in family for tests (models/standin/wan_standin.py, seed 0): generated into
 * {@code target/standin-<dtype>} of the module running the tests (the working directory surefire
 * gives it) the first time a JVM asks for a dtype, and reused while the stamp file there matches the
 * sha256 of the generator's sources and arguments. Needs a python that can {@code import onnx,
 * numpy}: {@code python3}, else {@code /usr/bin/python3} ({@code .ci/install-tools} installs
 * python3-onnx and python3-numpy). Thread-safe; other modules get it from runtime's test-jar.
 */
public final class StandinFamily {
    private static final Map<DType, ModelFamily> LOADED = new EnumMap<>(DType.class);
    private static final String STAMP = ".standin-stamp";

    private StandinFamily() {
    }

    /** The stand-in family in {@code dtype} (BF16 or FP32), loaded and checksum-verified. */
    public static synchronized ModelFamily get(DType dtype) {
        ModelFamily f = LOADED.get(dtype);
        if (f == null) {
            Path dir = Path.of("target", "standin-" + dtypeArg(dtype)).toAbsolutePath();
            String stamp = stamp(dtype, 0);
            if (stamp.equals(readStamp(dir))) {
                try {
                    f = ModelFamily.load(dir);
                } catch (IllegalArgumentException e) {
                    f = null;  // a file changed since: generate afresh
                }
            }
            if (f == null) {
                Path tmp = dir.resolveSibling(dir.getFileName() + ".tmp");
                deleteTree(tmp);
                generate(tmp, dtype, 0);
                write(tmp.resolve(STAMP), stamp);
                deleteTree(dir);
                move(tmp, dir);
                f = ModelFamily.load(dir);
            }
            LOADED.put(dtype, f);
        }
        return f;
    }

    /** Runs the generator into {@code out} (seed 0); {@code velocityGb} > 0 adds that much to velocity-large. */
    public static void generate(Path out, DType dtype, double velocityGb) {
        List<String> cmd = new ArrayList<>(List.of(python(), script().toString(), out.toString(), "--dtype",
                dtypeArg(dtype), "--seed", "0"));
        if (velocityGb > 0) {
            cmd.addAll(List.of("--velocity-gb", Double.toString(velocityGb)));
        }
        PythonScripts.runOrFail(cmd.get(0), cmd.subList(1, cmd.size()), 10);
    }

    /** models/standin/wan_standin.py of the checkout (found through the flowblend.models property). */
    public static Path script() {
        return ModelFamily.defaultDirectory().resolve("standin").resolve("wan_standin.py").toAbsolutePath();
    }

    private static String dtypeArg(DType dtype) {
        return switch (dtype) {
            case BF16 -> "bfloat16";
            case FP32 -> "float32";
            default -> throw new IllegalArgumentException("the stand-in family comes in BF16 or FP32, not " + dtype);
        };
    }

    /** The first of python3, /usr/bin/python3 that imports onnx and numpy. */
    static String python() {
        return PythonScripts.python("onnx, numpy");
    }

    /** sha256 of the generator's sources (every .py it imports) and of its arguments. */
    private static String stamp(DType dtype, int seed) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            Path models = ModelFamily.defaultDirectory();
            List<Path> sources = new ArrayList<>();
            try (Stream<Path> s = Files.list(models.resolve("standin"))) {
                s.filter(p -> p.toString().endsWith(".py")).sorted().forEach(sources::add);
            }
            sources.add(models.resolve("train").resolve("flops.py"));
            for (Path p : sources) {
                md.update(p.getFileName().toString().getBytes(StandardCharsets.UTF_8));
                md.update(Files.readAllBytes(p));
            }
            md.update((dtypeArg(dtype) + " " + seed).getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(md.digest());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the stand-in generator's sources", e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String readStamp(Path dir) {
        return readTrimmed(dir.resolve(STAMP));
    }

    /** The file's text, trimmed; null when it does not exist or cannot be read. */
    static String readTrimmed(Path f) {
        try {
            return Files.isRegularFile(f) ? Files.readString(f).trim() : null;
        } catch (IOException e) {
            return null;
        }
    }

    /** Writes {@code text} and a newline to {@code f}. */
    static void write(Path f, String text) {
        try {
            Files.writeString(f, text + "\n");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void move(Path from, Path to) {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Deletes a directory and everything under it (nothing when it does not exist). */
    public static void deleteTree(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + dir, e);
        }
    }
}
