package dev.flowblend.runtime;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A model directory: manifest.json plus the files it names. Loading verifies that every file
 * exists and matches its sha256, so a worker never serves a model other than the one declared.
 * Immutable and thread-safe.
 */
public final class ModelFamily {
    public static final String ROLE_TEXT_ENCODER = "text-encoder";
    public static final String ROLE_DECODER = "decoder";
    public static final String ROLE_VELOCITY_LARGE = "velocity-large";
    public static final String ROLE_VELOCITY_SMALL = "velocity-small";
    public static final String ROLE_EVALUATOR = "evaluator";

    private final Path dir;
    private final Manifest manifest;
    private final Map<String, ModelEntry> byName = new HashMap<>();  // looked up on every step

    private ModelFamily(Path dir, Manifest manifest) {
        this.dir = dir;
        this.manifest = manifest;
        manifest.models().forEach(m -> byName.putIfAbsent(m.name(), m));
    }

    /**
     * Loads {@code dir/manifest.json} and checks every model file and every external data file: each
     * path relative and inside {@code dir}, each file present and matching its sha256 (read in full,
     * so a load reads every byte of the family once).
     */
    public static ModelFamily load(Path dir) {
        Path file = dir.resolve("manifest.json");
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("no manifest.json in model directory " + dir.toAbsolutePath());
        }
        Manifest m = Json.read(file, Manifest.class);
        for (int i = 0; i < m.models().size(); i++) {
            ModelEntry e = m.models().get(i);
            Path f = inside(dir, e, "models[" + i + "].file", e.file());
            if (!Files.isRegularFile(f)) {
                throw new IllegalArgumentException("model '" + e.name() + "': file " + f + " does not exist");
            }
            String actual = sha256(f);
            if (e.sha256() != null && !e.sha256().equalsIgnoreCase(actual)) {
                throw new IllegalArgumentException("model '" + e.name() + "': " + f + " has sha256 " + actual
                        + " but the manifest says " + e.sha256());
            }
            for (int j = 0; j < e.externalData().size(); j++) {
                checkExternal(dir, e, "models[" + i + "].external_data[" + j + "]", e.externalData().get(j));
            }
        }
        if (m.text() != null) {
            checkText(dir, m);
        }
        return new ModelFamily(dir, m);
    }

    /**
     * The tokenizer file exists and matches text.tokenizer_sha256 (required: a different tokenizer
     * silently changes every prompt's ids), and the text encoder's inputs are what the orchestrator
     * fills: {@link Wire#INPUT_IDS} and optionally {@link Wire#ATTENTION_MASK}, int64 [-1, max_tokens].
     */
    private static void checkText(Path dir, Manifest m) {
        Manifest.TextSpec t = m.text();
        Path f = dir.resolve(t.tokenizer());
        if (!Files.isRegularFile(f)) {
            throw new IllegalArgumentException("text.tokenizer: file " + f + " does not exist");
        }
        String actual = sha256(f);
        if (t.tokenizerSha256() == null) {
            throw new IllegalArgumentException("text.tokenizer_sha256 is missing; " + f + " has sha256 " + actual);
        }
        if (!t.tokenizerSha256().equalsIgnoreCase(actual)) {
            throw new IllegalArgumentException("text.tokenizer: " + f + " has sha256 " + actual
                    + " but the manifest says " + t.tokenizerSha256());
        }
        for (ModelEntry e : m.models()) {
            if (!e.role().equals(ROLE_TEXT_ENCODER)) {
                continue;
            }
            if (e.input(Wire.INPUT_IDS) == null) {
                throw new IllegalArgumentException("model '" + e.name() + "' (text-encoder) has no input '"
                        + Wire.INPUT_IDS + "'; its inputs are " + e.inputs().stream().map(TensorSpec::name).toList());
            }
            for (TensorSpec in : e.inputs()) {
                if (!in.name().equals(Wire.INPUT_IDS) && !in.name().equals(Wire.ATTENTION_MASK)) {
                    throw new IllegalArgumentException("model '" + e.name() + "' (text-encoder) has input '" + in.name()
                            + "'; a text encoder takes '" + Wire.INPUT_IDS + "' and optionally '" + Wire.ATTENTION_MASK + "'");
                }
                long[] shape = in.shape();
                if (in.dtype() != DType.INT64 || shape.length != 2 || shape[1] != t.maxTokens()) {
                    throw new IllegalArgumentException("model '" + e.name() + "' input '" + in.name() + "' is "
                            + in.dtype().wireName() + " " + in.shapeText() + "; must be INT64 [-1, " + t.maxTokens()
                            + "] (text.max_tokens)");
                }
            }
        }
    }

    /** The family's tokenizer.json (text.tokenizer); null without a text section. */
    public Path tokenizerPath() {
        return manifest.text() == null ? null : dir.resolve(manifest.text().tokenizer());
    }

    private static void checkExternal(Path dir, ModelEntry e, String at, ModelEntry.ExternalData x) {
        Path f = inside(dir, e, at + ".file", x.file());
        if (!Files.isRegularFile(f)) {
            throw new IllegalArgumentException("model '" + e.name() + "': external data file " + f + " does not exist");
        }
        if (x.sha256() == null || x.sha256().isBlank()) {
            throw new IllegalArgumentException("model '" + e.name() + "': " + at + ".sha256 is missing; every "
                    + "external data file needs its checksum");
        }
        String actual = sha256(f);
        if (!x.sha256().equalsIgnoreCase(actual)) {
            throw new IllegalArgumentException("model '" + e.name() + "': external data file " + f + " has sha256 "
                    + actual + " but the manifest says " + x.sha256());
        }
    }

    /** {@code dir/value}, refused unless {@code value} is a relative path that stays inside {@code dir}. */
    static Path inside(Path dir, ModelEntry e, String field, String value) {
        String problem = null;
        Path p = null;
        if (value == null || value.isBlank()) {
            problem = "missing";
        } else {
            try {
                Path rel = Path.of(value);
                p = dir.resolve(rel);
                if (rel.isAbsolute()) {
                    problem = "'" + value + "', an absolute path";
                } else if (!p.toAbsolutePath().normalize().startsWith(dir.toAbsolutePath().normalize())) {
                    problem = "'" + value + "', which leaves the model directory";
                }
            } catch (java.nio.file.InvalidPathException x) {
                problem = "'" + value + "', not a valid path (" + x.getReason() + ")";
            }
        }
        if (problem != null) {
            throw new IllegalArgumentException("model '" + e.name() + "': " + field + " is " + problem
                    + "; it must be a relative path inside the model directory " + dir.toAbsolutePath());
        }
        return p;
    }

    /** The bundled family: system property flowblend.models, else ./models. */
    public static Path defaultDirectory() {
        return Path.of(System.getProperty("flowblend.models", "models"));
    }

    public Path dir() {
        return dir;
    }

    public Manifest manifest() {
        return manifest;
    }

    public Manifest.Conventions conventions() {
        return manifest.conventions();
    }

    public List<ModelEntry> models() {
        return manifest.models();
    }

    public Optional<ModelEntry> byName(String name) {
        return Optional.ofNullable(byName.get(name));
    }

    /** The model with this role; the exception names the role and the family. */
    public ModelEntry byRole(String role) {
        return manifest.models().stream().filter(m -> m.role().equals(role)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("model family '" + manifest.family()
                        + "' has no model with role '" + role + "'"));
    }

    public Path path(ModelEntry entry) {
        return dir.resolve(entry.file());
    }

    /**
     * SHA-256 of a file's bytes, read sequentially through a 256 KiB buffer. SHA-256 itself (about
     * 0.9 GB/s on one core with the SHA extensions) bounds a multi-GB weight file, not the read;
     * models/README.md has the measurements.
     */
    static String sha256(Path f) {
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[256 << 10];
            ByteBuffer bb = ByteBuffer.wrap(buf);
            for (int n; (n = ch.read(bb.clear())) >= 0; ) {
                md.update(buf, 0, n);
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read " + f + ": " + e.getMessage(), e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
