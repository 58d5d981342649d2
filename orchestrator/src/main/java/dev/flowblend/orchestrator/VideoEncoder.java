package dev.flowblend.orchestrator;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageTypeSpecifier;
import javax.imageio.ImageWriter;
import javax.imageio.metadata.IIOMetadata;
import javax.imageio.metadata.IIOMetadataNode;
import javax.imageio.stream.ImageOutputStream;
import org.jcodec.codecs.h264.H264Encoder;
import org.jcodec.common.Codec;
import org.jcodec.common.MuxerTrack;
import org.jcodec.common.VideoCodecMeta;
import org.jcodec.common.io.ByteBufferSeekableByteChannel;
import org.jcodec.common.model.ColorSpace;
import org.jcodec.common.model.Packet;
import org.jcodec.common.model.Picture;
import org.jcodec.common.model.Size;
import org.jcodec.containers.mp4.muxer.MP4Muxer;

/**
 * Frames [F, H, W, 3] in [0, 1] to an H.264 MP4 (jcodec, pure Java) or an animated GIF (the
 * JDK's ImageIO), upscaled by an integer factor with nearest-neighbour sampling so small latents
 * stay crisp. Stateless and thread-safe.
 */
public final class VideoEncoder {
    /** Output container. */
    public enum Container { MP4, GIF }

    private VideoEncoder() {
    }

    /**
     * The upscale for video_scale 0 (auto): the smallest whole factor that makes the longer side at
     * least 256 pixels (8 for the bundled 32×32 frames), 1 for frames already that large.
     */
    public static int autoScale(int[] shape) {
        int longer = Math.max(shape[1], shape[2]);
        return Math.max(1, Math.min(16, (256 + longer - 1) / longer));
    }

    public static byte[] encode(float[] frames, int[] shape, Container format, int scale, double fps) throws IOException {
        if (scale < 1 || scale > 16) {
            throw new IllegalArgumentException("video scale is " + scale + "; must be 1 to 16");
        }
        return format == Container.GIF ? gif(frames, shape, scale, fps) : mp4(frames, shape, scale, fps);
    }

    /** RGB bytes of frame f, upscaled: [H*scale, W*scale, 3]. */
    static byte[] rgb(float[] frames, int[] shape, int f, int scale) {
        int h = shape[1], w = shape[2];
        int oh = h * scale, ow = w * scale;
        byte[] out = new byte[oh * ow * 3];
        int base = f * h * w * 3;
        for (int y = 0; y < oh; y++) {
            for (int x = 0; x < ow; x++) {
                int src = base + ((y / scale) * w + (x / scale)) * 3;
                int dst = (y * ow + x) * 3;
                for (int c = 0; c < 3; c++) {
                    float v = frames[src + c];
                    out[dst + c] = (byte) Math.round(Math.max(0f, Math.min(1f, Float.isNaN(v) ? 0f : v)) * 255f);
                }
            }
        }
        return out;
    }

    private static byte[] mp4(float[] frames, int[] shape, int scale, double fps) throws IOException {
        int oh = shape[1] * scale, ow = shape[2] * scale;
        if (oh % 2 != 0 || ow % 2 != 0) {
            throw new IllegalArgumentException("H.264 4:2:0 needs even frame sizes; got " + ow + "x" + oh);
        }
        // H.264 output stays well under 2 bytes per pixel per frame; the bound avoids a growable channel
        ByteBuffer buf = ByteBuffer.allocate(Math.toIntExact((long) shape[0] * oh * ow * 2 + (1 << 20)));
        ByteBufferSeekableByteChannel ch = new ByteBufferSeekableByteChannel(buf, 0);
        MP4Muxer muxer = MP4Muxer.createMP4MuxerToChannel(ch);
        H264Encoder encoder = H264Encoder.createH264Encoder();
        int timescale = (int) Math.round(fps * 1000);
        MuxerTrack track = muxer.addVideoTrack(Codec.H264,
                VideoCodecMeta.createSimpleVideoCodecMeta(new Size(ow, oh), ColorSpace.YUV420J));
        for (int f = 0; f < shape[0]; f++) {
            Picture yuv = tvRangeYuv(rgb(frames, shape, f, scale), ow, oh);
            ByteBuffer out = ByteBuffer.allocate(encoder.estimateBufferSize(yuv));
            org.jcodec.common.VideoEncoder.EncodedFrame ef = encoder.encodeFrame(yuv, out);
            track.addFrame(Packet.createPacket(ef.getData(), (long) f * 1000, timescale, 1000, f,
                    ef.isKeyFrame() ? Packet.FrameType.KEY : Packet.FrameType.INTER, null));
        }
        muxer.finish();
        return Mp4Times.zero(Arrays.copyOf(buf.array(), (int) ch.size()));
    }

    /**
     * RGB to 4:2:0 YUV with BT.601 limited-range (TV) coefficients — what players assume when a
     * stream carries no range flag (jcodec's own RGB path uses other coefficients, and colours
     * shift in players). Chroma is the mean of each 2x2 block. Samples are stored offset by -128,
     * as jcodec expects.
     */
    static Picture tvRangeYuv(byte[] rgb, int w, int h) {
        Picture pic = Picture.create(w, h, ColorSpace.YUV420J);
        byte[] y = pic.getPlaneData(0), u = pic.getPlaneData(1), v = pic.getPlaneData(2);
        for (int row = 0; row < h; row++) {
            for (int col = 0; col < w; col++) {
                int i = (row * w + col) * 3;
                double r = rgb[i] & 0xff, g = rgb[i + 1] & 0xff, b = rgb[i + 2] & 0xff;
                y[row * w + col] = sample(16 + (65.481 * r + 128.553 * g + 24.966 * b) / 255);
            }
        }
        for (int row = 0; row < h / 2; row++) {
            for (int col = 0; col < w / 2; col++) {
                double r = 0, g = 0, b = 0;
                for (int d = 0; d < 4; d++) {
                    int i = (((2 * row + d / 2) * w) + 2 * col + d % 2) * 3;
                    r += (rgb[i] & 0xff) / 4.0;
                    g += (rgb[i + 1] & 0xff) / 4.0;
                    b += (rgb[i + 2] & 0xff) / 4.0;
                }
                u[row * (w / 2) + col] = sample(128 + (-37.797 * r - 74.203 * g + 112.0 * b) / 255);
                v[row * (w / 2) + col] = sample(128 + (112.0 * r - 93.786 * g - 18.214 * b) / 255);
            }
        }
        return pic;
    }

    private static byte sample(double x) {
        return (byte) (Math.round(Math.max(0, Math.min(255, x))) - 128);
    }

    private static byte[] gif(float[] frames, int[] shape, int scale, double fps) throws IOException {
        int oh = shape[1] * scale, ow = shape[2] * scale;
        ImageWriter writer = ImageIO.getImageWritersByFormatName("gif").next();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ImageOutputStream out = ImageIO.createImageOutputStream(bytes)) {
            writer.setOutput(out);
            writer.prepareWriteSequence(null);
            for (int f = 0; f < shape[0]; f++) {
                byte[] rgb = rgb(frames, shape, f, scale);
                BufferedImage img = new BufferedImage(ow, oh, BufferedImage.TYPE_INT_RGB);
                for (int y = 0; y < oh; y++) {
                    for (int x = 0; x < ow; x++) {
                        int i = (y * ow + x) * 3;
                        img.setRGB(x, y, ((rgb[i] & 0xff) << 16) | ((rgb[i + 1] & 0xff) << 8) | (rgb[i + 2] & 0xff));
                    }
                }
                IIOMetadata meta = writer.getDefaultImageMetadata(ImageTypeSpecifier.createFromRenderedImage(img), null);
                gifFrameMetadata(meta, (int) Math.round(100 / fps), f == 0);
                writer.writeToSequence(new IIOImage(img, null, meta), null);
            }
            writer.endWriteSequence();
        } finally {
            writer.dispose();
        }
        return bytes.toByteArray();
    }

    private static void gifFrameMetadata(IIOMetadata meta, int delayCentis, boolean first) throws IOException {
        String fmt = meta.getNativeMetadataFormatName();
        IIOMetadataNode root = (IIOMetadataNode) meta.getAsTree(fmt);
        IIOMetadataNode gce = child(root, "GraphicControlExtension");
        gce.setAttribute("disposalMethod", "none");
        gce.setAttribute("userInputFlag", "FALSE");
        gce.setAttribute("transparentColorFlag", "FALSE");
        gce.setAttribute("delayTime", Integer.toString(Math.max(1, delayCentis)));
        gce.setAttribute("transparentColorIndex", "0");
        if (first) {
            IIOMetadataNode apps = child(root, "ApplicationExtensions");
            IIOMetadataNode app = new IIOMetadataNode("ApplicationExtension");
            app.setAttribute("applicationID", "NETSCAPE");
            app.setAttribute("authenticationCode", "2.0");
            app.setUserObject(new byte[] {1, 0, 0});  // loop forever
            apps.appendChild(app);
        }
        meta.setFromTree(fmt, root);
    }

    private static IIOMetadataNode child(IIOMetadataNode root, String name) {
        for (int i = 0; i < root.getLength(); i++) {
            if (root.item(i).getNodeName().equalsIgnoreCase(name)) {
                return (IIOMetadataNode) root.item(i);
            }
        }
        IIOMetadataNode n = new IIOMetadataNode(name);
        root.appendChild(n);
        return n;
    }
}
