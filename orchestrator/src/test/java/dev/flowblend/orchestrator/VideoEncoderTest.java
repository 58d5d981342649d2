package dev.flowblend.orchestrator;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import org.junit.jupiter.api.Test;

class VideoEncoderTest {
    private static final int[] SHAPE = {12, 32, 32, 3};

    /** A red 10x10 square moving right 2 px per frame over a dark background. */
    private static float[] movingSquare() {
        float[] v = new float[12 * 32 * 32 * 3];
        for (int f = 0; f < 12; f++) {
            for (int y = 0; y < 32; y++) {
                for (int x = 0; x < 32; x++) {
                    boolean in = y >= 11 && y < 21 && x >= 2 + 2 * f && x < 12 + 2 * f;
                    int i = ((f * 32 + y) * 32 + x) * 3;
                    v[i] = in ? 0.9f : 0.1f;
                    v[i + 1] = in ? 0.15f : 0.1f;
                    v[i + 2] = in ? 0.15f : 0.12f;
                }
            }
        }
        return v;
    }

    private static double psnr(float[] a, float[] b) {
        double se = 0;
        for (int i = 0; i < a.length; i++) {
            se += (a[i] - b[i]) * (double) (a[i] - b[i]);
        }
        return 10 * Math.log10(a.length / se);
    }

    @Test
    void encode_mp4_h264ThatDecodesBackToTheFramesAbove30dB() throws Exception {
        float[] frames = movingSquare();
        byte[] mp4 = VideoEncoder.encode(frames, SHAPE, VideoEncoder.Container.MP4, 8, 8.0);
        assertEquals("ftyp", new String(mp4, 4, 4, StandardCharsets.US_ASCII));
        assertTrue(new String(mp4, StandardCharsets.ISO_8859_1).contains("avc1"), "H.264 sample entry");
        int[] shape = new int[4];
        float[] back = Mp4Reader.frames(mp4, 8, shape);
        assertArrayEquals(SHAPE, shape);
        double p = psnr(frames, back);
        assertTrue(p > 30, "PSNR " + p);
    }

    @Test
    void encode_mp4_sameFramesASecondLater_sameBytes() throws Exception {
        byte[] first = VideoEncoder.encode(movingSquare(), SHAPE, VideoEncoder.Container.MP4, 2, 8.0);
        Thread.sleep(1100);  // the MP4 header times count seconds: a stamped clock would differ now
        byte[] second = VideoEncoder.encode(movingSquare(), SHAPE, VideoEncoder.Container.MP4, 2, 8.0);
        org.junit.jupiter.api.Assertions.assertArrayEquals(first, second);
    }

    @Test
    void encode_gif_twelveLoopingFramesOfScaledSize() throws Exception {
        byte[] gif = VideoEncoder.encode(movingSquare(), SHAPE, VideoEncoder.Container.GIF, 4, 8.0);
        ImageReader r = ImageIO.getImageReadersByFormatName("gif").next();
        try (ImageInputStream in = ImageIO.createImageInputStream(new ByteArrayInputStream(gif))) {
            r.setInput(in);
            assertEquals(12, r.getNumImages(true));
            assertEquals(128, r.read(0).getWidth());
            int rgb = r.read(5).getRGB(4 * (12 + 1), 4 * 15);  // inside the square at frame 5 (x 12..21)
            assertTrue(((rgb >> 16) & 0xff) > 200 && (rgb & 0xff) < 60, Integer.toHexString(rgb));
        } finally {
            r.dispose();
        }
        assertTrue(new String(gif, StandardCharsets.ISO_8859_1).contains("NETSCAPE2.0"), "loops forever");
    }

    @Test
    void encode_scaleOutOfRange_rejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> VideoEncoder.encode(movingSquare(), SHAPE, VideoEncoder.Container.MP4, 17, 8.0));
        assertEquals("video scale is 17; must be 1 to 16", e.getMessage());
    }
}
