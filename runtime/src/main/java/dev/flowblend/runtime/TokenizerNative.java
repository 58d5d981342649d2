package dev.flowblend.runtime;

import ai.djl.engine.EngineException;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * DJL's Hugging Face tokenizers binding, set up so that nothing is ever downloaded and its
 * behaviour is ours to specify:
 *
 * <ul>
 *   <li>offline: system property {@code ai.djl.offline=true} (DJL's environment variable
 *       {@code DJL_OFFLINE}, read first, still overrides it). Offline, DJL takes the CPU build of
 *       its native library from its jar (linux-x86_64, linux-aarch64, osx-aarch64, win-x86_64) and
 *       never fetches a CUDA build; the tokenizer runs on the CPU in any case;</li>
 *   <li>no usage tracking: {@code OPT_OUT_TRACKING=true} (DJL would otherwise report the EC2
 *       instance it runs on);</li>
 *   <li>the native library is copied from the jar, once, to {@code <cache>/tokenizers/<version>-cpu-<platform>/}
 *       and loaded from there; {@code <cache>} is DJL's: environment variable or system property
 *       {@code ENGINE_CACHE_DIR}, else {@code DJL_CACHE_DIR}, else {@code ~/.djl.ai} when the home
 *       directory is writable, else {@code <java.io.tmpdir>/.djl.ai} (in the container image, whose
 *       root filesystem is read-only, that is {@code /tmp/.djl.ai}). Concurrent processes may share
 *       it: DJL extracts into a temporary directory and renames it into place;</li>
 *   <li>DJL logs through SLF4J into java.util.logging; its {@code ai.djl} loggers default to
 *       WARNING, and its CUDA probe ({@code ai.djl.util.cuda}, which looks for a GPU before it picks
 *       a build) to SEVERE, unless logging.properties sets them;</li>
 *   <li>each tokenizer: special tokens as the tokenizer.json's post_processor adds them
 *       ({@code addSpecialTokens=true}), no truncation and no padding (whatever the file says):
 *       {@link Tokenizer} counts, refuses and pads itself.</li>
 * </ul>
 * Stateless apart from the one-time setup; thread-safe.
 */
final class TokenizerNative {
    private static final Logger LOG = Logger.getLogger(TokenizerNative.class.getName());
    // java.util.logging holds loggers weakly: these keep the levels set below
    private static final Logger DJL = Logger.getLogger("ai.djl");
    private static final Logger DJL_CUDA = Logger.getLogger("ai.djl.util.cuda");
    private static final Map<String, String> OPTIONS = Map.of(
            "addSpecialTokens", "true", "truncation", "false", "padding", "false", "withOverflowingTokens", "false");
    private static boolean prepared;

    private TokenizerNative() {
    }

    /** The directory DJL extracts the native library into (see the class comment). */
    static Path cacheDir() {
        prepare();
        return ai.djl.util.Utils.getEngineCacheDir("tokenizers");
    }

    private static synchronized void prepare() {
        if (prepared) {
            return;
        }
        if (System.getProperty("ai.djl.offline") == null) {
            System.setProperty("ai.djl.offline", "true");
        }
        if (System.getProperty("OPT_OUT_TRACKING") == null) {
            System.setProperty("OPT_OUT_TRACKING", "true");
        }
        if (DJL.getLevel() == null) {
            DJL.setLevel(Level.WARNING);
        }
        if (DJL_CUDA.getLevel() == null) {
            DJL_CUDA.setLevel(Level.SEVERE);
        }
        prepared = true;
    }

    /**
     * A native tokenizer over the tokenizer.json document {@code json}; the caller owns it. Refused
     * with the file named when the document is not a tokenizer, and with the cache directory named
     * when the native library cannot be loaded.
     */
    static HuggingFaceTokenizer create(byte[] json, String source) {
        prepare();
        try {
            HuggingFaceTokenizer t = HuggingFaceTokenizer.newInstance(new ByteArrayInputStream(json), OPTIONS);
            LOG.fine(() -> "tokenizer " + source + " loaded; native library from " + cacheDir());
            return t;
        } catch (EngineException e) {
            throw new IllegalStateException("cannot load the Hugging Face tokenizers native library (DJL extracts it "
                    + "from its jar into " + cacheDir() + "; set ENGINE_CACHE_DIR to a writable directory to use "
                    + "another): " + rootMessage(e), e);
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException("tokenizer " + source + " is not a Hugging Face tokenizer.json: "
                    + e.getMessage(), e);
        }
    }

    private static String rootMessage(Throwable t) {
        StringBuilder b = new StringBuilder(String.valueOf(t.getMessage()));
        for (Throwable c = t.getCause(); c != null && c != t; c = c.getCause()) {
            b.append(": ").append(c);
            t = c;
        }
        return b.toString();
    }
}
