package dev.flowblend.runtime;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One video size a family declares ({@code conventions.sizes[]}): frames × height × width, the
 * σ-shift sampling uses at that size (WAN: 3.0 at 480p, 5.0 at 720p) and the latent it samples,
 * derived from the autoencoder's compression and checked against the transformer's patch.
 * Immutable.
 */
public record VideoSize(String name, int frames, int height, int width, double sigmaShift,
                        int latentFrames, int latentHeight, int latentWidth) {

    /** The dimension symbols a size binds, as tensor shapes in the manifest may use them. */
    public static final List<String> SYMBOLS = List.of("frames", "height", "width", "latent_frames", "latent_height",
            "latent_width");

    /** Symbol to value, for {@link TensorSpec#withBatch(long, Map)} and {@link TensorSpec#bind}. */
    public Map<String, Long> binding() {
        Map<String, Long> m = new LinkedHashMap<>();
        m.put("frames", (long) frames);
        m.put("height", (long) height);
        m.put("width", (long) width);
        m.put("latent_frames", (long) latentFrames);
        m.put("latent_height", (long) latentHeight);
        m.put("latent_width", (long) latentWidth);
        return m;
    }

    /** Values in one latent of {@code channels} channels. */
    public int latentElements(int channels) {
        return Math.multiplyExact(Math.multiplyExact(channels, latentFrames), latentHeight * latentWidth);
    }

    /** Values in one decoded RGB video. */
    public int videoElements() {
        return Math.multiplyExact(Math.multiplyExact(frames, height), width * 3);
    }

    /** [frames, height, width, 3]. */
    public int[] videoShape() {
        return new int[] {frames, height, width, 3};
    }

    /** "480p = 81x480x832 (frames x height x width)". */
    public String describe() {
        return name + " = " + frames + "x" + height + "x" + width;
    }
}
