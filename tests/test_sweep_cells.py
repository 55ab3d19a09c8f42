"""The LSTM cell of the sweep and its eight variants against hand-computed steps."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from odyssey_sweep.cells import VARIANTS, LSTMLayer  # noqa: E402

H, IN, B = 3, 2, 2


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def make_layer(code: str, directions: int = 1, seed: int = 0) -> LSTMLayer:
    torch.manual_seed(seed)
    layer = LSTMLayer(IN, H, code, directions).double()
    with torch.no_grad():
        for p in layer.parameters():
            p.uniform_(-0.8, 0.8)
    return layer


def blocks(layer: LSTMLayer, d: int = 0) -> dict[str, dict[str, np.ndarray]]:
    """The layer's weights split per block (z and each gate), as numpy arrays."""
    names = ["z", *layer.gates]
    w = layer.weight_input[d].detach().numpy()
    r = layer.weight_recurrent[d].detach().numpy()
    b = layer.bias[d].detach().numpy()
    out = {}
    for k, name in enumerate(names):
        cols = slice(k * H, (k + 1) * H)
        out[name] = {"W": w[:, cols], "R": r[:, cols], "b": b[cols]}
        if name != "z" and layer.peephole is not None:
            out[name]["p"] = layer.peephole[d, k - 1].detach().numpy()
    return out


def one_step(layer, x, y, c, a=None):
    """Run the layer's step from a given state; returns numpy y_t, c_t, a_t."""
    state = (
        torch.from_numpy(y)[None],
        torch.from_numpy(c)[None],
        torch.from_numpy(a if a is not None else np.zeros((B, 3 * H)))[None],
    )
    xw = layer.project_inputs(torch.from_numpy(x)[None, None])[:, 0]
    y_t, (_, c_t, a_t) = layer.step(xw, state)
    return y_t[0].detach().numpy(), c_t[0].detach().numpy(), a_t[0].detach().numpy()


@pytest.fixture
def inputs():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(B, IN))
    y = rng.normal(size=(B, H)) * 0.5
    c = rng.normal(size=(B, H))
    return x, y, c


def pre(blk, x, y):
    return x @ blk["W"] + y @ blk["R"] + blk["b"]


def test_vanilla_matches_greff_equations_over_a_sequence():
    layer = make_layer("V")
    p = blocks(layer)
    rng = np.random.default_rng(2)
    xs = rng.normal(size=(4, B, IN))
    y, c = np.zeros((B, H)), np.zeros((B, H))
    expected = []
    for x in xs:
        z = np.tanh(pre(p["z"], x, y))
        i = sigmoid(pre(p["i"], x, y) + p["i"]["p"] * c)
        f = sigmoid(pre(p["f"], x, y) + p["f"]["p"] * c)
        c = z * i + c * f
        o = sigmoid(pre(p["o"], x, y) + p["o"]["p"] * c)  # output peephole sees c_t
        y = np.tanh(c) * o
        expected.append(y)
    outputs, final = layer(torch.from_numpy(xs))
    np.testing.assert_allclose(outputs.detach().numpy(), np.stack(expected), rtol=1e-12)
    np.testing.assert_allclose(final.detach().numpy(), expected[-1], rtol=1e-12)


def test_variant_parameter_counts():
    per_block = IN * H + H * H + H
    counts = {code: sum(q.numel() for q in make_layer(code).parameters()) for code in VARIANTS}
    assert counts["V"] == 4 * per_block + 3 * H
    assert counts["NP"] == 4 * per_block
    for code in ("NIG", "NFG", "NOG", "CIFG"):
        assert counts[code] == 3 * per_block + 2 * H
    for code in ("NIAF", "NOAF"):
        assert counts[code] == counts["V"]
    assert counts["FGR"] == counts["V"] + 9 * H * H


def test_np_has_no_peepholes(inputs):
    layer = make_layer("NP")
    assert layer.peephole is None
    x, y, c = inputs
    p = blocks(layer)
    z = np.tanh(pre(p["z"], x, y))
    i, f = sigmoid(pre(p["i"], x, y)), sigmoid(pre(p["f"], x, y))
    c_t = z * i + c * f
    y_t = np.tanh(c_t) * sigmoid(pre(p["o"], x, y))
    got_y, got_c, _ = one_step(layer, x, y, c)
    np.testing.assert_allclose(got_c, c_t, rtol=1e-12)
    np.testing.assert_allclose(got_y, y_t, rtol=1e-12)


def test_nig_input_gate_is_one(inputs):
    layer = make_layer("NIG")
    assert layer.gates == ("f", "o")
    x, y, c = inputs
    p = blocks(layer)
    z = np.tanh(pre(p["z"], x, y))
    f = sigmoid(pre(p["f"], x, y) + p["f"]["p"] * c)
    c_t = z + c * f
    y_t = np.tanh(c_t) * sigmoid(pre(p["o"], x, y) + p["o"]["p"] * c_t)
    got_y, got_c, _ = one_step(layer, x, y, c)
    np.testing.assert_allclose(got_c, c_t, rtol=1e-12)
    np.testing.assert_allclose(got_y, y_t, rtol=1e-12)


def test_nfg_adds_to_the_cell_and_keeps_it_when_input_gate_closed(inputs):
    layer = make_layer("NFG")
    assert layer.gates == ("i", "o")
    x, y, c = inputs
    p = blocks(layer)
    z = np.tanh(pre(p["z"], x, y))
    i = sigmoid(pre(p["i"], x, y) + p["i"]["p"] * c)
    got_y, got_c, _ = one_step(layer, x, y, c)
    np.testing.assert_allclose(got_c, c + i * z, rtol=1e-12)
    with torch.no_grad():  # close the input gate: i = sigmoid(-1e4) = 0 exactly
        layer.bias[0, 2 * H : 3 * H] = 0.0
        layer.bias[0, H : 2 * H] = -1e4
    _, kept, _ = one_step(layer, x, y, c)
    assert np.array_equal(kept, c)


def test_nog_output_gate_is_one(inputs):
    layer = make_layer("NOG")
    assert layer.gates == ("i", "f")
    x, y, c = inputs
    p = blocks(layer)
    z = np.tanh(pre(p["z"], x, y))
    i = sigmoid(pre(p["i"], x, y) + p["i"]["p"] * c)
    f = sigmoid(pre(p["f"], x, y) + p["f"]["p"] * c)
    c_t = z * i + c * f
    got_y, got_c, _ = one_step(layer, x, y, c)
    np.testing.assert_allclose(got_c, c_t, rtol=1e-12)
    np.testing.assert_allclose(got_y, np.tanh(c_t), rtol=1e-12)


@pytest.mark.parametrize("code", ["NIAF", "NOAF"])
def test_activation_variants_are_identity_where_tanh_was(inputs, code):
    layer = make_layer(code)
    x, y, c = inputs
    p = blocks(layer)
    z = pre(p["z"], x, y)
    if code == "NOAF":
        z = np.tanh(z)
    i = sigmoid(pre(p["i"], x, y) + p["i"]["p"] * c)
    f = sigmoid(pre(p["f"], x, y) + p["f"]["p"] * c)
    c_t = z * i + c * f
    o = sigmoid(pre(p["o"], x, y) + p["o"]["p"] * c_t)
    y_t = (c_t if code == "NOAF" else np.tanh(c_t)) * o
    got_y, got_c, _ = one_step(layer, x, y, c)
    np.testing.assert_allclose(got_c, c_t, rtol=1e-12)
    np.testing.assert_allclose(got_y, y_t, rtol=1e-12)


def test_cifg_forget_gate_is_one_minus_input_gate(inputs):
    layer = make_layer("CIFG")
    assert layer.gates == ("i", "o")
    x, y, c = inputs
    p = blocks(layer)
    z = np.tanh(pre(p["z"], x, y))
    i = sigmoid(pre(p["i"], x, y) + p["i"]["p"] * c)
    c_t = z * i + c * (1.0 - i)
    y_t = np.tanh(c_t) * sigmoid(pre(p["o"], x, y) + p["o"]["p"] * c_t)
    got_y, got_c, _ = one_step(layer, x, y, c)
    np.testing.assert_allclose(got_c, c_t, rtol=1e-12)
    np.testing.assert_allclose(got_y, y_t, rtol=1e-12)


def test_fgr_gates_receive_all_previous_gate_activations(inputs):
    layer = make_layer("FGR")
    assert layer.gate_recurrent is not None
    assert tuple(layer.gate_recurrent.shape) == (1, 3 * H, 3 * H)  # nine H x H matrices
    x, y, c = inputs
    p = blocks(layer)
    g = layer.gate_recurrent[0].detach().numpy()
    prev = {k: np.random.default_rng(3 + n).uniform(size=(B, H)) for n, k in enumerate("ifo")}
    a = np.concatenate([prev["i"], prev["f"], prev["o"]], axis=1)

    def from_gates(target: int) -> np.ndarray:
        cols = slice(target * H, (target + 1) * H)
        return sum(prev[s] @ g[k * H : (k + 1) * H, cols] for k, s in enumerate("ifo"))

    z = np.tanh(pre(p["z"], x, y))
    i = sigmoid(pre(p["i"], x, y) + from_gates(0) + p["i"]["p"] * c)
    f = sigmoid(pre(p["f"], x, y) + from_gates(1) + p["f"]["p"] * c)
    c_t = z * i + c * f
    o = sigmoid(pre(p["o"], x, y) + from_gates(2) + p["o"]["p"] * c_t)
    got_y, got_c, got_a = one_step(layer, x, y, c, a)
    np.testing.assert_allclose(got_c, c_t, rtol=1e-12)
    np.testing.assert_allclose(got_y, np.tanh(c_t) * o, rtol=1e-12)
    np.testing.assert_allclose(got_a, np.concatenate([i, f, o], axis=1), rtol=1e-12)


def test_backward_direction_reads_each_sequence_reversed_within_its_length():
    layer = make_layer("V", directions=2)
    rng = np.random.default_rng(4)
    lengths = [5, 3]
    x = np.zeros((5, 2, IN))
    for b, n in enumerate(lengths):
        x[:n, b] = rng.normal(size=(n, IN))
    outputs, final = layer(torch.from_numpy(x), torch.tensor(lengths))
    for b, n in enumerate(lengths):
        fwd = LSTMLayer(IN, H, "V", 1).double()
        bwd = LSTMLayer(IN, H, "V", 1).double()
        with torch.no_grad():
            for single, d in ((fwd, 0), (bwd, 1)):
                for name, param in single.named_parameters():
                    param.copy_(getattr(layer, name)[d : d + 1])
        seq = torch.from_numpy(x[:n, b : b + 1])
        out_f, fin_f = fwd(seq)
        out_b, fin_b = bwd(torch.flip(seq, [0]))
        np.testing.assert_allclose(final[b, :H].detach(), fin_f[0].detach(), rtol=1e-12)
        np.testing.assert_allclose(final[b, H:].detach(), fin_b[0].detach(), rtol=1e-12)
        np.testing.assert_allclose(
            outputs[:n, b, H:].detach(), torch.flip(out_b, [0])[:, 0].detach(), rtol=1e-12
        )
