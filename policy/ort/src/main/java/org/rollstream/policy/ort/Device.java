package org.rollstream.policy.ort;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtProvider;
import ai.onnxruntime.OrtSession;

/** Where ONNX Runtime runs: {@code cpu} (default) or {@code cuda:N} (CUDA execution provider). */
public record Device(Kind kind, int index) {
    public enum Kind { CPU, CUDA }

    public static final Device CPU = new Device(Kind.CPU, 0);

    static final String CUDA_HELP = "CUDA needs either (CUDA 12) the Maven artifact com.microsoft.onnxruntime:onnxruntime_gpu:1.28.0 "
            + "on the classpath instead of onnxruntime, with the CUDA 12 runtime and cuDNN 9 on LD_LIBRARY_PATH; or (CUDA 13) "
            + "-Donnxruntime.native.path=DIR pointing at a CUDA-13 build of libonnxruntime.so, libonnxruntime_providers_shared.so, "
            + "libonnxruntime_providers_cuda.so plus libonnxruntime4j_jni.so from onnxruntime_gpu (see policy/README.md and ../shared/gpu-bundle)";

    /** Parses {@code cpu}, {@code cuda} or {@code cuda:N}. */
    public static Device parse(String s) {
        String t = s == null ? "" : s.trim().toLowerCase();
        if (t.equals("cpu")) return CPU;
        if (t.equals("cuda") || t.equals("gpu")) return new Device(Kind.CUDA, 0);
        if (t.startsWith("cuda:")) {
            try {
                int i = Integer.parseInt(t.substring(5));
                if (i >= 0) return new Device(Kind.CUDA, i);
            } catch (NumberFormatException ignored) {
                // fall through to the error below
            }
        }
        throw new IllegalArgumentException("unknown device '" + s + "': use cpu or cuda:N");
    }

    public boolean isCuda() {
        return kind == Kind.CUDA;
    }

    /** True when the loaded ONNX Runtime natives include the CUDA execution provider. */
    public static boolean cudaAvailable() {
        try {
            return OrtEnvironment.getAvailableProviders().contains(OrtProvider.CUDA);
        } catch (RuntimeException | UnsatisfiedLinkError e) {
            return false;
        }
    }

    /** Adds this device's execution provider; a clear IllegalArgumentException when CUDA is missing. */
    void configure(OrtSession.SessionOptions opts) {
        if (kind == Kind.CPU) return;
        if (!cudaAvailable()) {
            throw new IllegalArgumentException("device " + this + " requested but the CUDA execution provider is not available in the loaded ONNX Runtime. " + CUDA_HELP);
        }
        try {
            opts.addCUDA(index);
        } catch (OrtException | RuntimeException | UnsatisfiedLinkError e) {
            throw new IllegalArgumentException("device " + this + ": the CUDA execution provider failed to load (" + e.getMessage() + "). " + CUDA_HELP, e);
        }
    }

    @Override
    public String toString() {
        return kind == Kind.CPU ? "cpu" : "cuda:" + index;
    }
}
