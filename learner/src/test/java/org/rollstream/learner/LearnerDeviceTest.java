package org.rollstream.learner;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.djl.Device;
import ai.djl.engine.Engine;
import org.junit.jupiter.api.Test;
import org.rollstream.policy.djl.ComputePrecision;

/** Device and precision settings are checked up front, with messages that say what is missing. */
class LearnerDeviceTest {
    @Test
    void parsesCpuAndCudaAndRejectsAnythingElse() {
        assertEquals(Device.cpu(), LearnerDevice.parse("cpu").resolve());
        assertEquals(1, LearnerDevice.parse("CUDA:1").gpuIndex());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LearnerDevice.parse("gpu0"));
        assertTrue(e.getMessage().contains("cpu or cuda:N"), e.getMessage());
    }

    @Test
    void cudaWithoutAGpuNamesWhatIsMissing() {
        assumeTrue(Engine.getInstance().getGpuCount() == 0, "this host has a GPU the engine sees; the refusal is for CPU-only hosts");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LearnerDevice.parse("cuda:0").resolve());
        assertTrue(e.getMessage().contains("reports 0 GPUs") && e.getMessage().contains("CUDA build"), e.getMessage());
    }

    @Test
    void bf16IsRefusedAndDefaultsAreTheCpuBehaviour() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new LearnerCompute(LearnerDevice.CPU, ComputePrecision.BF16, 0));
        assertTrue(e.getMessage().contains("fp16"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new LearnerCompute(LearnerDevice.CPU, ComputePrecision.FP32, -1));
        LearnerCompute d = LearnerCompute.defaults();
        assertEquals(LearnerDevice.CPU, d.device());
        assertEquals(ComputePrecision.FP32, d.precision());
        assertEquals(0, d.microBatchSize());
        assertTrue(!d.newLossScale().enabled() && new LearnerCompute(null, ComputePrecision.FP16, 4).newLossScale().enabled());
    }
}
