package dev.flowblend.runtime;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * A family exported from shrunk, randomly initialised WAN 2.1 checkpoints, for tests: runs
 * models/export/make_checkpoint.py (the diffusers layout: a sharded large transformer, a small one,
 * a shared VAE, umT5 encoder and tokenizer) and models/export/wan21.py into
 * {@code target/wan21-<dtype>} of the module running the tests, once per JVM and dtype, reused while
 * the stamp (sha256 of the scripts and arguments) matches. Needs a python that can import torch and
 * onnx (.ci/install-tools). Thread-safe; other modules get it from runtime's test-jar.
 */
public final class WanExport {
    /** The two sizes the test family declares (WAN's names and shifts at toy resolution). */
    public static final String SIZES = "480p:9:48:80:3.0,720p:9:64:112:5.0";
    public static final int MAX_TOKENS = 32;
    public static final String NEGATIVE_PROMPT = "blurry, static, low quality";
    private static final Map<DType, ModelFamily> LOADED = new EnumMap<>(DType.class);
    private static final String STAMP = ".export-stamp";

    private WanExport() {
    }

    /** The exported family in {@code dtype} (BF16: the checkpoints' own precision; FP32). */
    public static synchronized ModelFamily get(DType dtype) {
        ModelFamily f = LOADED.get(dtype);
        if (f == null) {
            Path dir = Path.of("target", "wan21-" + dtype.manifestName()).toAbsolutePath();
            String stamp = stamp(dtypeArg(dtype));
            Path stampFile = dir.resolve(STAMP);
            if (!stamp.equals(StandinFamily.readTrimmed(stampFile))) {
                Path checkpoints = checkpoints(List.of());
                StandinFamily.deleteTree(dir);
                PythonScripts.Outcome o = export(checkpoints, dir, dtypeArg(dtype));
                if (o.exitCode() != 0) {
                    throw new IllegalStateException("wan21.py failed (exit " + o.exitCode() + "):\n" + o.output());
                }
                StandinFamily.write(stampFile, stamp);
            }
            f = ModelFamily.load(dir);
            LOADED.put(dtype, f);
        }
        return f;
    }

    /** Writes a checkpoint pair into target/wan21-ckpt[-drop...] and returns its directory. */
    public static synchronized Path checkpoints(List<String> dropKeys) {
        String suffix = dropKeys.isEmpty() ? "" : "-" + Integer.toHexString(dropKeys.hashCode());
        Path dir = Path.of("target", "wan21-ckpt" + suffix).toAbsolutePath();
        String stamp = stamp(String.join(",", dropKeys));
        if (!stamp.equals(StandinFamily.readTrimmed(dir.resolve(STAMP)))) {
            StandinFamily.deleteTree(dir);
            List<String> args = new ArrayList<>(List.of(script("make_checkpoint.py"), dir.toString()));
            for (String k : dropKeys) {
                args.addAll(List.of("--drop-key", k));
            }
            PythonScripts.runOrFail(python(), args, 10);
            StandinFamily.write(dir.resolve(STAMP), stamp);
        }
        return dir;
    }

    /** Runs the exporter on a checkpoint pair; the caller reads the exit code and output. */
    public static PythonScripts.Outcome export(Path checkpoints, Path out, String dtype) {
        return PythonScripts.run(python(), List.of(script("wan21.py"), "--large", checkpoints.resolve("large").toString(),
                "--small", checkpoints.resolve("small").toString(), "--out", out.toString(), "--dtype", dtype,
                "--sizes", SIZES, "--max-tokens", Integer.toString(MAX_TOKENS), "--negative-prompt", NEGATIVE_PROMPT,
                "--family", "wan2.1-t2v-shrunk-" + dtype), 20);
    }

    static String python() {
        return PythonScripts.python("torch, onnx");
    }

    private static String script(String name) {
        return exportDir().resolve(name).toString();
    }

    private static Path exportDir() {
        return ModelFamily.defaultDirectory().resolve("export").toAbsolutePath();
    }

    private static String dtypeArg(DType dtype) {
        return switch (dtype) {
            case BF16 -> "auto";  // the checkpoints' own precision: BF16 transformers and text encoder, FP32 VAE
            case FP32 -> "float32";
            default -> throw new IllegalArgumentException("the test export comes in BF16 or FP32, not " + dtype);
        };
    }

    private static String stamp(String args) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            try (Stream<Path> s = Files.list(exportDir())) {
                for (Path p : s.filter(p -> p.toString().endsWith(".py")).sorted().toList()) {
                    md.update(p.getFileName().toString().getBytes(StandardCharsets.UTF_8));
                    md.update(Files.readAllBytes(p));
                }
            }
            md.update((args + " " + SIZES + " " + MAX_TOKENS).getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(md.digest());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read models/export", e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
