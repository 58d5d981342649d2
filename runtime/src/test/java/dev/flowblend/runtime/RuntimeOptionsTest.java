package dev.flowblend.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** execution_provider: the names accepted, and a device ordinal that would not fit an int refused up front. */
class RuntimeOptionsTest {
    @Test
    void executionProvider_cudaOrdinals_acceptedWithinRange() {
        assertEquals(0, new RuntimeOptions(1, 1, "cuda").cudaDevice());
        assertEquals(7, new RuntimeOptions(1, 1, "CUDA:7").cudaDevice());
        assertEquals(1023, new RuntimeOptions(1, 1, "cuda:1023").cudaDevice());
    }

    @Test
    void executionProvider_outOfRangeOrUnknown_refusedNamingTheField() {
        for (String bad : new String[] {"cuda:1024", "cuda:99999999999", "cuda:07", "cuda:-1", "rocm", "cuda:"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new RuntimeOptions(1, 1, bad));
            assertEquals("execution_provider is '" + bad.toLowerCase(java.util.Locale.ROOT)
                    + "'; must be cpu, cuda or cuda:N with N 0 to 1023", e.getMessage());
        }
    }
}
