"""The ONNX rewrites the exports make for a runtime's sake compute the same function: fast, no TensorFlow."""

from __future__ import annotations

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from zoo.backends.graph_rewrites import (  # noqa: E402
    decompose_prelu,
    prelu_to_leaky_relu,
    split_channel_multiplier,
    split_pooled_concat_gemm,
)


def _model(nodes, consts: dict[str, np.ndarray], c_in: int, c_out: int, size: int = 6, out_size: int = 6):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, c_in, size, size])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, c_out, out_size, out_size])
    inits = [numpy_helper.from_array(v.astype(np.float32), k) for k, v in consts.items()]
    return helper.make_model(helper.make_graph(nodes, "g", [x], [y], inits), opset_imports=[helper.make_opsetid("", 17)])


def _run(model, x: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, {"x": x})[0]


def _prelu(slope: np.ndarray):
    return _model([helper.make_node("PRelu", ["x", "slope"], ["y"], name="stem/prelu")], {"slope": slope}, 4, 4)


X4 = np.random.default_rng(0).normal(size=(1, 4, 6, 6)).astype(np.float32)


def test_one_slope_prelu_becomes_the_same_leaky_relu() -> None:
    model = _prelu(np.full((1, 1, 1), 0.1875))
    before = _run(model, X4)
    assert prelu_to_leaky_relu(model) == 1
    assert [n.op_type for n in model.graph.node] == ["LeakyRelu"]
    assert model.graph.node[0].attribute[0].f == pytest.approx(0.1875)
    assert not model.graph.initializer  # the slope nothing reads any more is gone
    np.testing.assert_array_equal(_run(model, X4), before)


def test_per_channel_prelu_is_decomposed_not_made_leaky() -> None:
    model = _prelu(np.array([0.1, 0.2, 0.3, 0.4]).reshape(4, 1, 1))
    before = _run(model, X4)
    assert prelu_to_leaky_relu(model) == 0
    assert decompose_prelu(model) == 1
    assert [n.op_type for n in model.graph.node] == ["Relu", "Min", "Mul", "Add"]
    np.testing.assert_array_equal(_run(model, X4), before)


@pytest.mark.parametrize("multiplier", [2, 3])
def test_channel_multiplier_conv_becomes_repeat_and_depthwise(multiplier: int) -> None:
    """The face-score head's depthwise conv with channel multiplier: same numbers as one 1x1 repeat + depthwise."""
    rng = np.random.default_rng(1)
    c_out = 4 * multiplier
    conv = helper.make_node("Conv", ["x", "w", "b"], ["y"], name="head/conv", group=4, kernel_shape=[3, 3],
                            pads=[1, 1, 1, 1], strides=[2, 2])
    model = _model([conv], {"w": rng.normal(size=(c_out, 1, 3, 3)), "b": rng.normal(size=c_out)}, 4, c_out, out_size=3)
    before = _run(model, X4)
    assert split_channel_multiplier(model) == 1
    repeat, depthwise = model.graph.node
    assert (repeat.op_type, depthwise.op_type) == ("Conv", "Conv")
    assert {a.name: helper.get_attribute_value(a) for a in depthwise.attribute}["group"] == c_out
    np.testing.assert_allclose(_run(model, X4), before, rtol=1e-6, atol=1e-6)


def test_plain_depthwise_and_dense_convs_are_left_alone() -> None:
    rng = np.random.default_rng(2)
    nodes = [helper.make_node("Conv", ["x", "dw"], ["h"], group=4, kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
             helper.make_node("Conv", ["h", "dense"], ["y"], kernel_shape=[1, 1])]
    model = _model(nodes, {"dw": rng.normal(size=(4, 1, 3, 3)), "dense": rng.normal(size=(8, 4, 1, 1))}, 4, 8)
    assert split_channel_multiplier(model) == 0
    assert len(model.graph.node) == 2


def _pooled_head(pool: str):
    """Three levels (each a 1x1 conv of the last), each globally pooled and flattened, concatenated, then a Gemm."""
    rng = np.random.default_rng(3)
    nodes, consts, feed, pooled = [], {"w": rng.normal(size=(5, 12)), "b": rng.normal(size=5)}, "x", []
    for k in range(3):
        consts[f"c{k}"] = rng.normal(size=(4, 4, 1, 1))
        nodes += [helper.make_node("Conv", [feed, f"c{k}"], [f"l{k}"], kernel_shape=[1, 1]),
                  helper.make_node(pool, [f"l{k}"], [f"p{k}"]), helper.make_node("Flatten", [f"p{k}"], [f"f{k}"])]
        feed = f"l{k}"
        pooled.append(f"f{k}")
    nodes += [helper.make_node("Concat", pooled, ["cat"], axis=1),
              helper.make_node("Gemm", ["cat", "w", "b"], ["y"], name="head/gemm", transB=1)]
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 6, 6])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 5])
    inits = [numpy_helper.from_array(v.astype(np.float32), k) for k, v in consts.items()]
    return helper.make_model(helper.make_graph(nodes, "g", [x], [y], inits), opset_imports=[helper.make_opsetid("", 17)])


def test_a_head_over_max_pooled_levels_reads_each_level_through_its_own_gemm() -> None:
    model = _pooled_head("GlobalMaxPool")
    before = _run(model, X4)
    assert split_pooled_concat_gemm(model) == 1
    ops = [n.op_type for n in model.graph.node]
    assert "Concat" not in ops and ops.count("Gemm") == 3 and ops.count("Add") == 2
    np.testing.assert_allclose(_run(model, X4), before, rtol=1e-5, atol=1e-5)  # the same sum, in another order


def test_a_head_over_average_pooled_levels_is_left_alone() -> None:
    model = _pooled_head("GlobalAveragePool")
    assert split_pooled_concat_gemm(model) == 0
    assert [n.op_type for n in model.graph.node].count("Concat") == 1
