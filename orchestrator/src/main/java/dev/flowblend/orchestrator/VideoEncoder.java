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
import org.jcodec.api.SequenceEncoder;
import org.jcodec.common.Codec;
import org.jcodec.common.Format;
import org.jcodec.common.io.ByteBufferSeekableByteChannel;
import org.jcodec.common.model.ColorSpace;
import org.jcodec.common.model.Picture;
import org.jcodec.common.model.Rational;

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
        SequenceEncoder enc = new SequenceEncoder(ch, Rational.R((int) Math.round(fps * 1000), 1000),
                Format.MOV, Codec.H264, null);
        for (int f = 0; f < shape[0]; f++) {
            byte[] rgb = rgb(frames, shape, f, scale);
            Picture pic = Picture.create(ow, oh, ColorSpace.RGB);
            byte[] plane = pic.getPlaneData(0);
            for (int i = 0; i < rgb.length; i++) {
                plane[i] = (byte) ((rgb[i] & 0xff) - 128);  // jcodec stores samples offset by -128
            }
            enc.encodeNativeFrame(pic);
        }
        enc.finish();
        return Arrays.copyOf(buf.array(), (int) ch.size());
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
