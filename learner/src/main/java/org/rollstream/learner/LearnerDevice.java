package org.rollstream.learner;

import ai.djl.Device;
import ai.djl.engine.Engine;
import java.util.Locale;

/**
 * Where the learner's policy, reference model, optimizer state and batches live: {@code cpu} or
 * {@code cuda:N}. {@link #resolve()} checks the engine can actually use it, so a CUDA request on a
 * CPU-only build or host fails at start-up with what is missing, not at the first tensor.
 */
public record LearnerDevice(String name) {
    public static final LearnerDevice CPU = new LearnerDevice("cpu");

    /** @throws IllegalArgumentException unless {@code name} is {@code cpu} or {@code cuda:N} (N ≥ 0) */
    public LearnerDevice {
        name = name == null ? "cpu" : name.trim().toLowerCase(Locale.ROOT);
        if (!name.equals("cpu") && !name.matches("cuda:\\d+")) {
            throw new IllegalArgumentException("learner device must be cpu or cuda:N, got '" + name + "'");
        }
    }

    public static LearnerDevice parse(String s) {
        return new LearnerDevice(s);
    }

    public boolean isCuda() {
        return name.startsWith("cuda:");
    }

    /** The GPU index for {@code cuda:N}; -1 for the CPU. */
    public int gpuIndex() {
        return isCuda() ? Integer.parseInt(name.substring(5)) : -1;
    }

    /**
     * The DJL device, after checking the engine sees it.
     *
     * @throws IllegalArgumentException naming what is missing when CUDA is asked for and DJL's
     *                                  engine reports fewer GPUs than the index needs
     */
    public Device resolve() {
        if (!isCuda()) {
            return Device.cpu();
        }
        Engine engine = Engine.getInstance();
        int gpus = engine.getGpuCount();
        if (gpuIndex() >= gpus) {
            throw new IllegalArgumentException(name + ": DJL's " + engine.getEngineName() + " engine "
                    + engine.getVersion() + " reports " + gpus + " GPU" + (gpus == 1 ? "" : "s") + (gpus == 0
                    ? ": this build loads CPU-only PyTorch natives, or no NVIDIA driver/GPU is visible; the learner on CUDA"
                    + " needs the CUDA build (PyTorch natives for CUDA, e.g. pytorch-native-cu124 with the GPU bundle's"
                    + " libraries) on a host with an NVIDIA GPU"
                    : "; pick an index below " + gpus));
        }
        return Device.gpu(gpuIndex());
    }

    @Override
    public String toString() {
        return name;
    }
}
