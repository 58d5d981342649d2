package dev.flowblend.calibration;

import java.util.Map;

/**
 * Every measurement of one plan over one prompt set, against the large-only videos of the same
 * prompts and seeds. Per-video metrics are means over the videos. Immutable.
 *
 * @param accuracy fraction of videos whose every attribute the evaluator reads as prompted
 * @param similarity mean cosine of extractor features with the large-only video (DINO analogue)
 * @param frechet Fréchet distance of evaluator features to real renders (FID analogue)
 * @param motionSimilarity temporal coherence: cosine of frame differences with the large-only video
 * @param flopsSaving fraction of large-only velocity FLOPs this plan saves
 * @param wallMs batched generation wall time per video
 */
public record PlanQuality(String plan, String segments, int samples, double flops, double flopsSaving, double wallMs,
                          double accuracy, Map<String, Double> attributeAccuracy, double frechet, double similarity,
                          double psnr, double ssim, double motionSimilarity) {

    /** The same measurements under another name (e.g. a validation-set row). */
    public PlanQuality named(String name) {
        return new PlanQuality(name, segments, samples, flops, flopsSaving, wallMs, accuracy, attributeAccuracy, frechet,
                similarity, psnr, ssim, motionSimilarity);
    }
}
