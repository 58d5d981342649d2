package dev.flowblend.orchestrator;

import java.nio.ByteBuffer;
import java.util.Set;

/**
 * Makes an MP4 byte-reproducible: the muxer stamps the wall clock into the creation and
 * modification times of the movie, track and media headers (mvhd, tkhd, mdhd), so the same
 * request gave different bytes each time. This sets them to 0 (1904-01-01, the format's epoch),
 * walking the box tree (moov > trak > mdia) rather than searching for the names, which the
 * H.264 data could contain. Stateless.
 */
final class Mp4Times {
    private static final Set<String> CONTAINERS = Set.of("moov", "trak", "mdia");
    private static final Set<String> HEADERS = Set.of("mvhd", "tkhd", "mdhd");

    private Mp4Times() {
    }

    /** Zeroes the header times of {@code mp4} in place; returns it. */
    static byte[] zero(byte[] mp4) {
        walk(ByteBuffer.wrap(mp4), 0, mp4.length);
        return mp4;
    }

    private static void walk(ByteBuffer b, int from, int to) {
        int at = from;
        while (at + 8 <= to) {
            long size = Integer.toUnsignedLong(b.getInt(at));
            String type = new String(new byte[] {b.get(at + 4), b.get(at + 5), b.get(at + 6), b.get(at + 7)},
                    java.nio.charset.StandardCharsets.ISO_8859_1);
            int header = 8;
            if (size == 1) {  // a 64-bit size follows the type
                size = b.getLong(at + 8);
                header = 16;
            } else if (size == 0) {  // to the end of the enclosing box
                size = to - at;
            }
            if (size < header || at + size > to) {
                return;  // not a box we can read: leave the rest as it is
            }
            int end = (int) (at + size);
            if (CONTAINERS.contains(type)) {
                walk(b, at + header, end);
            } else if (HEADERS.contains(type) && at + header + 4 <= end) {
                int version = b.get(at + header) & 0xff;
                int times = at + header + 4;  // after version and flags
                int width = version == 1 ? 8 : 4;
                for (int i = 0; i < 2 * width && times + i < end; i++) {
                    b.put(times + i, (byte) 0);
                }
            }
            at = end;
        }
    }
}
