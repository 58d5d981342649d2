package dev.flowblend.calibration;

import java.util.List;

/**
 * Features of decoded videos [N, F, H, W, 3] in [0, 1], for similarity to large-only (the DINO
 * analogue) and Fréchet distance (the FID analogue). Implementations own their models.
 */
public interface FeatureExtractor extends AutoCloseable {
    List<float[]> features(float[] videos, int n) throws Exception;

    @Override
    void close();
}
