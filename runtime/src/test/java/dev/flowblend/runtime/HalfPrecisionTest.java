package dev.flowblend.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

/** FP16 and BF16 conversions: exhaustive over every 16-bit pattern, ties to even, specials. */
class HalfPrecisionTest {

    @Test
    void everyFiniteHalfRoundTripsExactly() {
        for (int h = 0; h < 0x10000; h++) {
            short s = (short) h;
            if ((h & 0x7C00) != 0x7C00) {
                assertEquals(s, Tensors.toFp16(Tensors.fromFp16(s)), "fp16 " + h);
            }
            if ((h & 0x7F80) != 0x7F80) {
                assertEquals(s, Tensors.toBf16(Tensors.fromBf16(s)), "bf16 " + h);
            }
        }
    }

    @Test
    void halfValuesAreIeee() {
        assertEquals((short) 0x3C00, Tensors.toFp16(1f));
        assertEquals((short) 0xC000, Tensors.toFp16(-2f));
        assertEquals((short) 0x7BFF, Tensors.toFp16(65504f));
        assertEquals((short) 0x0001, Tensors.toFp16(0x1p-24f));
        assertEquals((short) 0x0400, Tensors.toFp16(0x1p-14f));
        assertEquals((short) 0x2E66, Tensors.toFp16(0.1f));
        assertEquals((short) 0x7C00, Tensors.toFp16(65520f));       // the tie above 65504 rounds to infinity
        assertEquals((short) 0x7BFF, Tensors.toFp16(65519f));
        assertEquals((short) 0x0000, Tensors.toFp16(0x1p-25f));     // a tie between 0 and 2^-24: even is 0
        assertEquals((short) 0x0001, Tensors.toFp16(0x1.8p-25f));
        assertEquals(0x1p-24f, Tensors.fromFp16((short) 1));
        assertEquals(65504f, Tensors.fromFp16((short) 0x7BFF));
        assertTrue(Float.isNaN(Tensors.fromFp16(Tensors.toFp16(Float.NaN))));
        assertEquals(Float.NEGATIVE_INFINITY, Tensors.fromFp16(Tensors.toFp16(Float.NEGATIVE_INFINITY)));
    }

    @Test
    void midpointsRoundToEven() {
        for (int h = 0; h < 0x7BFF; h++) {
            float lo = Tensors.fromFp16((short) h);
            float hi = Tensors.fromFp16((short) (h + 1));
            float mid = (float) (((double) lo + hi) / 2);  // exact in float: halves have 11 significant bits
            short even = (short) ((h & 1) == 0 ? h : h + 1);
            assertEquals(even, Tensors.toFp16(mid), "fp16 midpoint above " + Integer.toHexString(h));
            assertEquals((short) h, Tensors.toFp16(Math.nextDown(mid)));
            assertEquals((short) (h + 1), Tensors.toFp16(Math.nextUp(mid)));
        }
        for (int h = 0; h < 0x7F7F; h += 7) {
            float lo = Tensors.fromBf16((short) h);
            float hi = Tensors.fromBf16((short) (h + 1));
            float mid = (float) (((double) lo + hi) / 2);
            short even = (short) ((h & 1) == 0 ? h : h + 1);
            assertEquals(even, Tensors.toBf16(mid), "bf16 midpoint above " + Integer.toHexString(h));
            assertEquals((short) h, Tensors.toBf16(Math.nextDown(mid)));
            assertEquals((short) (h + 1), Tensors.toBf16(Math.nextUp(mid)));
        }
        assertTrue(Float.isNaN(Tensors.fromBf16(Tensors.toBf16(Float.NaN))));
        assertEquals(Float.POSITIVE_INFINITY, Tensors.fromBf16(Tensors.toBf16(Float.MAX_VALUE)));
    }

    @Test
    void buffersRoundTripAndFindNonFinite() {
        float[] a = {0f, 1f, -1.5f, 3.140625f, 1e-3f};
        for (DType t : new DType[] {DType.FP32, DType.FP16, DType.BF16}) {
            byte[] b = Tensors.bytes(a, t);
            assertEquals(a.length * t.bytes(), b.length);
            float[] back = Tensors.floats(ByteBuffer.wrap(b), t);
            for (int i = 0; i < a.length; i++) {
                assertEquals(a[i], back[i], Math.abs(a[i]) * (t == DType.BF16 ? 0x1p-8 : 0x1p-11), t + " " + i);
            }
            assertEquals(-1, Tensors.firstNonFinite(ByteBuffer.wrap(b), t));
            float[] bad = a.clone();
            bad[3] = Float.POSITIVE_INFINITY;
            assertEquals(3, Tensors.firstNonFinite(ByteBuffer.wrap(Tensors.bytes(bad, t)), t));
            assertEquals(Float.POSITIVE_INFINITY, Tensors.element(ByteBuffer.wrap(Tensors.bytes(bad, t)), t, 3));
            ByteBuffer d = Tensors.direct(a, t);
            assertEquals(0, d.position());
            assertArrayEquals(back, Tensors.floats(d, t));
        }
    }
}
