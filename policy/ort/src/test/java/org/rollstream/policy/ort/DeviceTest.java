package org.rollstream.policy.ort;

import org.rollstream.policy.ModelSpec;
import org.rollstream.policy.djl.DjlPolicy;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

class DeviceTest {
    @Test
    void parsesDevices() {
        assertEquals(Device.CPU, Device.parse("cpu"));
        assertEquals(new Device(Device.Kind.CUDA, 1), Device.parse("cuda:1"));
        assertEquals(new Device(Device.Kind.CUDA, 0), Device.parse("cuda"));
        assertThrows(IllegalArgumentException.class, () -> Device.parse("tpu"));
        assertThrows(IllegalArgumentException.class, () -> Device.parse("cuda:x"));
    }

    @Test
    void cudaWithoutTheProviderFailsClearly() {
        assumeFalse(Device.cudaAvailable(), "CUDA provider present on this host");
        ModelSpec spec = new ModelSpec(20, 16, 1, 2, 8, ModelSpec.Positional.LEARNED, 4);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> OrtPolicy.create(spec, DjlPolicy.initialWeights(spec, 1), Device.parse("cuda:0")));
        assertTrue(e.getMessage().contains("CUDA execution provider is not available"), e.getMessage());
        assertTrue(e.getMessage().contains("onnxruntime_gpu") && e.getMessage().contains("onnxruntime.native.path"), e.getMessage());
    }
}
