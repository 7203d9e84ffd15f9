package org.rollstream.policy.ort;

import ai.onnx.proto.OnnxMl.AttributeProto.AttributeType;
import org.tribuo.util.onnx.ONNXAttribute;
import org.tribuo.util.onnx.ONNXOperator;

import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * The ONNX operators the policy graph uses, declared for Tribuo's graph builder (its own
 * operator enum lacks MatMul, Reshape, LayerNormalization, Loop, ...). From the default domain at
 * opset {@link #OPSET}, except ONNX Runtime's {@code com.microsoft} Attention,
 * SkipLayerNormalization and FastGelu (version 1).
 */
enum OnnxOps implements ONNXOperator {
    ADD("Add", 2, 0, 1),
    SUB("Sub", 2, 0, 1),
    MIN("Min", 2, 0, 1),
    MAX("Max", 2, 0, 1),
    LESS("Less", 2, 0, 1),
    EXP("Exp", 1, 0, 1),
    LOG("Log", 1, 0, 1),
    /** axes as an input since opset 13 */
    REDUCE_SUM("ReduceSum", 2, 0, 1, attr("keepdims", AttributeType.INT)),
    /** inclusive unless {@code exclusive=1}; ONNX Runtime's CUDA kernel is quadratic in the axis length, so keep that axis short */
    CUMSUM("CumSum", 2, 0, 1, attr("exclusive", AttributeType.INT)),
    /** data, pads, constant_value */
    PAD("Pad", 2, 1, 1),
    EXPAND("Expand", 2, 0, 1),
    TOPK("TopK", 2, 0, 2, attr("axis", AttributeType.INT), attr("largest", AttributeType.INT), attr("sorted", AttributeType.INT)),
    REDUCE_MAX("ReduceMax", 1, 0, 1, attr("axes", AttributeType.INTS), attr("keepdims", AttributeType.INT)),
    REDUCE_MIN("ReduceMin", 1, 0, 1, attr("axes", AttributeType.INTS), attr("keepdims", AttributeType.INT)),
    MUL("Mul", 2, 0, 1),
    DIV("Div", 2, 0, 1),
    MATMUL("MatMul", 2, 0, 1),
    TANH("Tanh", 1, 0, 1),
    EQUAL("Equal", 2, 0, 1),
    GREATER("Greater", 2, 0, 1),
    OR("Or", 2, 0, 1),
    NOT("Not", 1, 0, 1),
    WHERE("Where", 3, 0, 1),
    SHAPE("Shape", 1, 0, 1, attr("start", AttributeType.INT), attr("end", AttributeType.INT)),
    RANGE("Range", 3, 0, 1),
    RESHAPE("Reshape", 2, 0, 1),
    UNSQUEEZE("Unsqueeze", 2, 0, 1),
    SQUEEZE("Squeeze", 1, 1, 1),
    CONCAT("Concat", ONNXAttribute.VARIADIC_INPUT, 0, 1, attr("axis", AttributeType.INT)),
    SPLIT3("Split", 1, 1, 3, attr("axis", AttributeType.INT)),
    SLICE("Slice", 3, 2, 1),
    GATHER("Gather", 2, 0, 1, attr("axis", AttributeType.INT)),
    TRANSPOSE("Transpose", 1, 0, 1, attr("perm", AttributeType.INTS)),
    SOFTMAX("Softmax", 1, 0, 1, attr("axis", AttributeType.INT)),
    LOG_SOFTMAX("LogSoftmax", 1, 0, 1, attr("axis", AttributeType.INT)),
    LAYER_NORM("LayerNormalization", 3, 0, 1, attr("axis", AttributeType.INT), attr("epsilon", AttributeType.FLOAT)),
    CAST("Cast", 1, 0, 1, attr("to", AttributeType.INT)),
    ARGMAX("ArgMax", 1, 0, 1, attr("axis", AttributeType.INT), attr("keepdims", AttributeType.INT)),
    GATHER_ELEMENTS("GatherElements", 2, 0, 1, attr("axis", AttributeType.INT)),
    IDENTITY("Identity", 1, 0, 1),
    GEMM("Gemm", 2, 1, 1, attr("transB", AttributeType.INT)),
    /** com.microsoft Attention (GPT-2 style: merged QKV weights, raw 0/1 mask, past (2,B,H,P,D)). */
    MS_ATTENTION("Attention", 5, 0, 2, "com.microsoft", 1, attr("num_heads", AttributeType.INT), attr("unidirectional", AttributeType.INT)),
    /** com.microsoft MultiHeadAttention: q, k, v, bias, key_padding_mask, attention_bias, past_key, past_value. */
    MS_MHA("MultiHeadAttention", 8, 0, 3, "com.microsoft", 1, attr("num_heads", AttributeType.INT)),
    /** com.microsoft SkipLayerNormalization: LN(input + skip + bias), and that sum as output 3. */
    MS_SKIP_LAYER_NORM("SkipLayerNormalization", 5, 0, 4, "com.microsoft", 1, attr("epsilon", AttributeType.FLOAT)),
    /** com.microsoft FastGelu (tanh approximation) of X + bias. */
    MS_FAST_GELU("FastGelu", 2, 0, 1, "com.microsoft", 1);

    static final int OPSET = 17;

    private final String opName;
    private final int inputs, optionalInputs, outputs;
    private final Map<String, ONNXAttribute> attributes;
    private final String domain;
    private final int version;

    OnnxOps(String opName, int inputs, int optionalInputs, int outputs, ONNXAttribute... attrs) {
        this(opName, inputs, optionalInputs, outputs, "", OPSET, attrs);
    }

    OnnxOps(String opName, int inputs, int optionalInputs, int outputs, String domain, int version, ONNXAttribute... attrs) {
        this.domain = domain;
        this.version = version;
        this.opName = opName;
        this.inputs = inputs;
        this.optionalInputs = optionalInputs;
        this.outputs = outputs;
        Map<String, ONNXAttribute> m = new HashMap<>();
        for (ONNXAttribute a : attrs) m.put(a.getName(), a);
        this.attributes = Collections.unmodifiableMap(m);
    }

    private static ONNXAttribute attr(String name, AttributeType type) {
        return new ONNXAttribute(name, type, false);
    }

    @Override
    public String getOpName() {
        return opName;
    }

    @Override
    public int getNumInputs() {
        return inputs;
    }

    @Override
    public int getNumOptionalInputs() {
        return optionalInputs;
    }

    @Override
    public int getNumOutputs() {
        return outputs;
    }

    @Override
    public Map<String, ONNXAttribute> getAttributes() {
        return attributes;
    }

    @Override
    public Set<String> getMandatoryAttributeNames() {
        return new HashSet<>();
    }

    @Override
    public int getOpVersion() {
        return version;
    }

    @Override
    public String getOpDomain() {
        return domain;
    }
}
