package dev.flowblend.runtime;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
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

    /** Loads {@code dir/manifest.json} and checks every model file's checksum. */
    public static ModelFamily load(Path dir) {
        Path file = dir.resolve("manifest.json");
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("no manifest.json in model directory " + dir.toAbsolutePath());
        }
        Manifest m = Json.read(file, Manifest.class);
        for (ModelEntry e : m.models()) {
            Path f = dir.resolve(e.file());
            if (!Files.isRegularFile(f)) {
                throw new IllegalArgumentException("model '" + e.name() + "': file " + f + " does not exist");
            }
            String actual = sha256(f);
            if (e.sha256() != null && !e.sha256().equalsIgnoreCase(actual)) {
                throw new IllegalArgumentException("model '" + e.name() + "': " + f + " has sha256 " + actual
                        + " but the manifest says " + e.sha256());
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

    static String sha256(Path f) {
        try (InputStream in = Files.newInputStream(f)) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) {
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
