"""The registry: every variant builds, fdfat's shapes are exact, bad names get suggestions."""

from __future__ import annotations

import pytest
import torch

from zoo.architectures import (
    UnknownVariantError,
    create_model,
    get_spec,
    list_variants,
    parse_variant,
)
from zoo.architectures.summary import summarize


def test_at_least_sixteen_variants_with_the_required_forms() -> None:
    names = list_variants()
    assert len(names) >= 16
    assert len(set(names)) == len(names)
    for base in ("lw-relu6", "lw-silu", "lwcsp-relu6", "lwcsp-silu"):
        assert base in names
        assert f"{base}-affine-cls" in names
    assert {parse_variant(n).width for n in names} >= {0.5, 0.75, 1.0}
    assert {parse_variant(n).input_size for n in names} >= {96, 112, 128}


@pytest.mark.parametrize("name", list_variants())
def test_every_variant_runs_forward_with_contract_shapes(name: str) -> None:
    model = create_model(name).eval()
    spec = model.spec
    with torch.no_grad():
        out = model(torch.randn(2, 3, spec.input_size, spec.input_size))
    assert tuple(out) == spec.heads == model.output_names
    assert out["landmarks"].shape == (2, 70, 2)
    assert out["landmarks"].abs().max() <= 1.0  # tanh range
    if spec.cls:
        assert out["face_score"].shape == (2, 1)
        assert ((out["face_score"] >= 0) & (out["face_score"] <= 1)).all()
    if spec.pose:
        assert out["pose"].shape == (2, 3)


@pytest.mark.parametrize(("name", "params"), [("lw-relu6-affine-cls", 429_206), ("lwcsp-silu-affine-cls", 482_165)])
def test_fdfat_equivalents_have_exact_parameter_counts(name: str, params: int) -> None:
    assert sum(p.numel() for p in create_model(name).parameters()) == params


def test_68_point_form() -> None:
    model = create_model("lwcsp-silu", num_points=68).eval()
    with torch.no_grad():
        assert model(torch.zeros(1, 3, 96, 96))["landmarks"].shape == (1, 68, 2)


def test_names_round_trip_through_the_spec() -> None:
    for name in list_variants():
        assert parse_variant(name).name == name


def test_unknown_variant_suggests_close_names() -> None:
    with pytest.raises(UnknownVariantError, match="lwcsp-silu-affine-cls"):
        get_spec("lwcsp-silu-afine-cls")
    with pytest.raises(UnknownVariantError, match="zoo models"):
        get_spec("resnet50")


def test_malformed_name_and_unsupported_size_are_rejected() -> None:
    with pytest.raises(ValueError, match="not a variant name"):
        parse_variant("LW_relu6")
    with pytest.raises(ValueError, match="input size 100"):
        parse_variant("lw-relu6-100")


def test_summary_counts_flops_that_grow_with_width_and_input() -> None:
    small, base, big = summarize("lw-relu6-w0.5"), summarize("lw-relu6"), summarize("lw-relu6-128")
    assert 0 < small["flops"] < base["flops"] < big["flops"]
    assert base["params"] == big["params"]  # input size changes cost, not weights
    # fdfat's README lists 66.4 M FLOPs for its LW with the face head
    assert summarize("lw-relu6-affine-cls")["flops"] == pytest.approx(66.4e6, rel=0.01)
