package dev.flowblend.orchestrator;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.jcodec.api.FrameGrab;
import org.jcodec.api.JCodecException;
import org.jcodec.common.io.ByteBufferSeekableByteChannel;
import org.jcodec.common.model.ColorSpace;
import org.jcodec.common.model.Picture;
import org.jcodec.scale.ColorUtil;
import org.jcodec.scale.Transform;

/**
 * Decodes an H.264 MP4 back to frames [F, H, W, 3] in [0, 1], averaging scale x scale pixel
 * blocks, so a written video can be checked against the frames it was made from. Stateless.
 */
public final class Mp4Reader {
    private Mp4Reader() {
    }

    /** Frames at 1/scale of the encoded resolution; the shape is returned in {@code shapeOut[0..3]}. */
    public static float[] frames(byte[] mp4, int scale, int[] shapeOut) throws IOException {
        List<float[]> frames = new ArrayList<>();
        int w = 0, h = 0;
        try {
            FrameGrab grab = FrameGrab.createFrameGrab(
                    new ByteBufferSeekableByteChannel(ByteBuffer.wrap(mp4), mp4.length));
            Picture pic;
            while ((pic = grab.getNativeFrame()) != null) {
                Picture rgb = Picture.create(pic.getWidth(), pic.getHeight(), ColorSpace.RGB);
                Transform t = ColorUtil.getTransform(pic.getColor(), ColorSpace.RGB);
                t.transform(pic, rgb);
                w = pic.getWidth() / scale;
                h = pic.getHeight() / scale;
                frames.add(downsample(rgb.getPlaneData(0), pic.getWidth(), w, h, scale));
            }
        } catch (JCodecException e) {
            throw new IOException("not a decodable MP4: " + e.getMessage(), e);
        }
        if (frames.isEmpty()) {
            throw new IOException("the MP4 holds no video frames");
        }
        float[] out = new float[frames.size() * h * w * 3];
        for (int f = 0; f < frames.size(); f++) {
            System.arraycopy(frames.get(f), 0, out, f * h * w * 3, h * w * 3);
        }
        shapeOut[0] = frames.size();
        shapeOut[1] = h;
        shapeOut[2] = w;
        shapeOut[3] = 3;
        return out;
    }

    private static float[] downsample(byte[] rgb, int stride, int w, int h, int scale) {
        float[] out = new float[h * w * 3];
        float norm = 255f * scale * scale;
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                for (int c = 0; c < 3; c++) {
                    int sum = 0;
                    for (int dy = 0; dy < scale; dy++) {
                        for (int dx = 0; dx < scale; dx++) {
                            sum += rgb[((y * scale + dy) * stride + x * scale + dx) * 3 + c] + 128;
                        }
                    }
                    out[(y * w + x) * 3 + c] = sum / norm;
                }
            }
        }
        return out;
    }
}
