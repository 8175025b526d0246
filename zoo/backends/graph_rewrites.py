"""Rewrites of an exported ONNX graph into an equivalent one a runtime executes faster.

Each rewrite computes the same function (exactly, not approximately: see each docstring), edits the
``onnx.ModelProto`` in place and returns how many nodes it rewrote. The backends choose which to apply
and say so in the manifest's ``rewrites``; docs/export.md ("int8 speed, by runtime") has the
measurements behind each one.
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: The zero that ``decompose_prelu``'s ``Min(x, 0)`` takes.
PRELU_ZERO = "zoo_prelu_zero"


def prelu_to_leaky_relu(model: Any) -> int:
    """Every ``PRelu`` whose slope is one number becomes ``LeakyRelu(alpha=slope)``: the same function.

    TFLite: XNNPACK delegates int8 ``LEAKY_RELU`` but not int8 ``PRELU``. ONNX Runtime: a LeakyRelu
    fuses into the convolution before it (fp32) and quantises to a table lookup (``QLinearLeakyRelu``),
    where its PRelu kernel broadcasts slowly and stays float in int8. Per-channel PRelu is left as is.
    """
    from onnx import helper, numpy_helper

    consts = _constants(model)
    count = 0
    for node in model.graph.node:
        if node.op_type != "PRelu" or node.input[1] not in consts:
            continue
        slope = numpy_helper.to_array(consts[node.input[1]])
        if slope.size != 1:
            continue
        node.op_type = "LeakyRelu"
        del node.input[1:]
        node.attribute.append(helper.make_attribute("alpha", float(slope.reshape(-1)[0])))
        count += 1
    return _finish(model, count)


def decompose_prelu(model: Any) -> int:
    """Every ``PRelu`` becomes ``Relu(x) + slope * Min(x, 0)``.

    The same function in exact arithmetic (one of the two terms is zero for every element), and in
    float too: the sum adds a zero. ORT runs the four elementwise ops ~5x faster than its PRelu
    kernel. Used for the PRelus ``prelu_to_leaky_relu`` leaves (per-channel slopes).
    """
    from onnx import helper, numpy_helper

    nodes, count = [], 0
    for node in model.graph.node:
        if node.op_type != "PRelu":
            nodes.append(node)
            continue
        (x, slope), (y,) = node.input, node.output
        p = node.name or f"prelu_{count}"
        nodes += [helper.make_node("Relu", [x], [f"{p}/pos"], name=f"{p}/relu"),
                  helper.make_node("Min", [x, PRELU_ZERO], [f"{p}/neg"], name=f"{p}/min"),
                  helper.make_node("Mul", [f"{p}/neg", slope], [f"{p}/scaled"], name=f"{p}/mul"),
                  helper.make_node("Add", [f"{p}/pos", f"{p}/scaled"], [y], name=f"{p}/add")]
        count += 1
    if count:
        model.graph.initializer.append(numpy_helper.from_array(np.zeros((), np.float32), PRELU_ZERO))
        _replace_nodes(model, nodes)
    return _finish(model, count)


def split_channel_multiplier(model: Any) -> int:
    """Every grouped ``Conv`` with one input channel per group and m > 1 outputs per group (a depthwise
    convolution with channel multiplier m, as in the face-score head) becomes a 1x1 ``Conv`` that repeats
    each input channel m times (weights 0 and 1) followed by a depthwise ``Conv`` (group = outputs) with
    the original weights, bias, strides and padding.

    The same function: output o of the grouped conv reads input o // m, and so does output o of the
    depthwise conv on the repeated channels; the 1x1 conv adds exact zeros to x * 1. ONNX Runtime has
    fast kernels for both forms in int8, but none for the grouped form: it ran as one small GEMM per
    group, 4-5x slower than in fp32 (34 + 64 us of LW's 0.58 ms int8 run; 190 us of LWCSP's).
    """
    from onnx import helper, numpy_helper

    consts = _constants(model)
    nodes, count = [], 0
    for node in model.graph.node:
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        group = int(attrs.get("group", 1))
        weight = numpy_helper.to_array(consts[node.input[1]]) if node.op_type == "Conv" and node.input[1] in consts else None
        if weight is None or group == 1 or weight.shape[1] != 1 or weight.shape[0] == group:
            nodes.append(node)
            continue
        outputs = weight.shape[0]
        repeat = np.zeros((outputs, group, 1, 1), weight.dtype)
        repeat[np.arange(outputs), np.arange(outputs) // (outputs // group), 0, 0] = 1
        p = node.name or f"conv_{count}"
        model.graph.initializer.append(numpy_helper.from_array(repeat, f"{p}/repeat_weight"))
        nodes.append(helper.make_node("Conv", [node.input[0], f"{p}/repeat_weight"], [f"{p}/repeated"],
                                      name=f"{p}/repeat", kernel_shape=[1, 1]))
        nodes.append(helper.make_node("Conv", [f"{p}/repeated", *node.input[1:]], list(node.output), name=p,
                                      **{**attrs, "group": outputs}))
        count += 1
    if count:
        _replace_nodes(model, nodes)
    return _finish(model, count)


def split_pooled_concat_gemm(model: Any) -> int:
    """A ``Gemm`` that reads a ``Concat`` of max-pooled maps becomes one ``Gemm`` per pooled map (the weight's
    column block for that map; the bias on the first) summed by ``Add``: the same function, W [a; b; c] + bias =
    W_a a + W_b b + W_c c + bias, with the float sum taken in another order.

    TFLite int8 keeps one scale through ``MAX_POOL_2D`` and through ``CONCATENATION``, so the converter gives
    every pooled map's *source* the concatenation's scale. In LWCSP that source is a pyramid level's output,
    which also feeds the next level: its SiLU values reach -0.28, the pooled maxima only -0.10, and clipping
    the next level's input at -0.10 cost the int8 export 8-10 NME points (docs/export.md). Without the
    concatenation each level keeps its own calibrated range. Only concatenations whose every input comes
    from a ``MaxPool`` (through ``Flatten``/``Reshape``) are rewritten; average pooling requantises anyway.
    """
    import onnx
    from onnx import helper, numpy_helper

    consts = _constants(model)
    producer = {o: n for n in model.graph.node for o in n.output}
    readers: dict[str, int] = {}
    for n in model.graph.node:
        for i in n.input:
            readers[i] = readers.get(i, 0) + 1
    dims = {v.name: [d.dim_value for d in v.type.tensor_type.shape.dim]
            for v in onnx.shape_inference.infer_shapes(model).graph.value_info}

    def pooled(name: str) -> bool:
        node = producer.get(name)
        while node is not None and node.op_type in ("Flatten", "Reshape"):
            node = producer.get(node.input[0])
        return node is not None and node.op_type in ("MaxPool", "GlobalMaxPool")

    nodes, count, dead = [], 0, set()
    for node in model.graph.node:
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        cat = producer.get(node.input[0]) if node.op_type == "Gemm" else None
        if (cat is None or cat.op_type != "Concat" or readers.get(cat.output[0]) != 1 or node.input[1] not in consts
                or attrs.get("transA", 0) or not attrs.get("transB", 0) or attrs.get("alpha", 1.0) != 1.0
                or attrs.get("beta", 1.0) != 1.0 or len(node.input) < 3 or not all(pooled(i) for i in cat.input)
                or any(len(dims.get(i, [])) != 2 or not dims[i][1] for i in cat.input)):
            nodes.append(node)
            continue
        weight = numpy_helper.to_array(consts[node.input[1]])
        dead.add(cat.output[0])
        p = node.name or f"gemm_{count}"
        zero = numpy_helper.from_array(np.zeros(weight.shape[0], weight.dtype), f"{p}/zero_bias")
        model.graph.initializer.append(zero)
        start, parts = 0, []
        for k, inp in enumerate(cat.input):
            width = dims[inp][1]
            block = numpy_helper.from_array(np.ascontiguousarray(weight[:, start:start + width]), f"{p}/weight_{k}")
            model.graph.initializer.append(block)
            parts.append(f"{p}/part_{k}")
            nodes.append(helper.make_node("Gemm", [inp, block.name, node.input[2] if k == 0 else zero.name], [parts[-1]],
                                          name=f"{p}/part_{k}", transB=1))
            start += width
        total = parts[0]
        for k, part in enumerate(parts[1:], 1):
            out = node.output[0] if k == len(parts) - 1 else f"{p}/sum_{k}"
            nodes.append(helper.make_node("Add", [total, part], [out], name=f"{p}/sum_{k}"))
            total = out
        count += 1
    if count:  # the concatenations read by nothing now
        _replace_nodes(model, [n for n in nodes if not (n.op_type == "Concat" and n.output[0] in dead)])
    return _finish(model, count)


def _constants(model: Any) -> dict[str, Any]:
    """Initializers and ``Constant`` node values by name."""
    consts = {t.name: t for t in model.graph.initializer}
    consts.update({n.output[0]: n.attribute[0].t for n in model.graph.node
                   if n.op_type == "Constant" and n.attribute and n.attribute[0].name == "value"})
    return consts


def _replace_nodes(model: Any, nodes: list[Any]) -> None:
    del model.graph.node[:]
    model.graph.node.extend(nodes)


def _finish(model: Any, count: int) -> int:
    """Drop initializers nothing reads any more (a PRelu's slope) and check the graph."""
    import onnx

    if count:
        used = {name for node in model.graph.node for name in node.input}
        used |= {o.name for o in model.graph.output}
        keep = [t for t in model.graph.initializer if t.name in used]
        if len(keep) != len(model.graph.initializer):
            del model.graph.initializer[:]
            model.graph.initializer.extend(keep)
        onnx.checker.check_model(model)
    return count
