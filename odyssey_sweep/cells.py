"""The LSTM layer of Greff et al. (2017) and its eight one-change variants, in PyTorch.

For one direction, with ``x_t`` the input, ``y_{t-1}`` the previous block output and
``c_{t-1}`` the previous cell state, the vanilla LSTM (V) computes::

    z_t = g(W_z x_t + R_z y_{t-1} + b_z)                       block input
    i_t = sigmoid(W_i x_t + R_i y_{t-1} + p_i * c_{t-1} + b_i)  input gate
    f_t = sigmoid(W_f x_t + R_f y_{t-1} + p_f * c_{t-1} + b_f)  forget gate
    c_t = z_t * i_t + c_{t-1} * f_t                             cell state
    o_t = sigmoid(W_o x_t + R_o y_{t-1} + p_o * c_t + b_o)      output gate
    y_t = h(c_t) * o_t                                          block output

with ``g = h = tanh`` and diagonal (element-wise) peephole weights ``p``. Each variant changes
exactly one thing: NIG ``i = 1``, NFG ``f = 1``, NOG ``o = 1``, NIAF ``g(x) = x``,
NOAF ``h(x) = x``, NP no peepholes, CIFG ``f = 1 - i``, FGR each gate's pre-activation also
receives ``[i_{t-1}, f_{t-1}, o_{t-1}]`` through nine extra ``H x H`` matrices. A removed gate
has no weights and no peephole.

The layer runs one or two directions in the same time loop (the backward direction reads each
sequence reversed within its own length), with every parameter stacked over a leading
direction axis so that one batched matrix product serves both.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

GATES = ("i", "f", "o")


@dataclass(frozen=True)
class Variant:
    """Which parts of the vanilla LSTM a variant keeps.

    Attributes
    ----------
    input_gate, forget_gate, output_gate : bool
        Whether the gate exists (a missing gate is the constant 1).
    input_activation, output_activation : bool
        Whether ``g`` (block input) and ``h`` (block output) are tanh or the identity.
    peepholes : bool
        Whether the gates have peephole connections from the cell state.
    coupled : bool
        CIFG: there is no forget gate of its own, ``f = 1 - i``.
    full_gate_recurrence : bool
        FGR: every gate also receives all gates' activations of the previous step.
    """

    input_gate: bool = True
    forget_gate: bool = True
    output_gate: bool = True
    input_activation: bool = True
    output_activation: bool = True
    peepholes: bool = True
    coupled: bool = False
    full_gate_recurrence: bool = False

    @property
    def gates(self) -> tuple[str, ...]:
        """The gates that have weights of their own, in the order ``i, f, o``."""
        own = {
            "i": self.input_gate,
            "f": self.forget_gate and not self.coupled,
            "o": self.output_gate,
        }
        return tuple(g for g in GATES if own[g])


VARIANTS: dict[str, Variant] = {
    "V": Variant(),
    "CIFG": Variant(coupled=True),
    "FGR": Variant(full_gate_recurrence=True),
    "NP": Variant(peepholes=False),
    "NOG": Variant(output_gate=False),
    "NIAF": Variant(input_activation=False),
    "NIG": Variant(input_gate=False),
    "NFG": Variant(forget_gate=False),
    "NOAF": Variant(output_activation=False),
}
"""Variant code -> what it keeps, in the order of the paper's figures."""


class LSTMLayer(nn.Module):
    """One LSTM layer (one or two directions) of a given variant.

    Parameters
    ----------
    input_size : int
        Number of input features.
    hidden_size : int
        Number of LSTM blocks per direction (``H``).
    variant : str or Variant
        A code of :data:`VARIANTS` or a :class:`Variant`.
    directions : int
        1 (forward only) or 2 (bidirectional).

    Attributes
    ----------
    weight_input : Parameter, shape (D, input_size, (1 + n_gates) * H)
        Input weights; column blocks are ``z`` then the variant's gates in ``i, f, o`` order.
    weight_recurrent : Parameter, shape (D, H, (1 + n_gates) * H)
        Recurrent weights from ``y_{t-1}``, same column blocks.
    bias : Parameter, shape (D, (1 + n_gates) * H)
    peephole : Parameter, shape (D, n_gates, H), or None (NP)
        Diagonal peephole weights of the variant's gates; ``i`` and ``f`` look at ``c_{t-1}``,
        ``o`` at ``c_t``.
    gate_recurrent : Parameter, shape (D, 3 * H, 3 * H), or None
        FGR only: row block ``a`` and column block ``b`` form the ``H x H`` matrix from gate
        ``a`` at ``t - 1`` to gate ``b`` at ``t`` (``a, b`` in ``i, f, o``): nine matrices.
    """

    def __init__(
        self, input_size: int, hidden_size: int, variant: str | Variant = "V", directions: int = 1
    ) -> None:
        super().__init__()
        if directions not in (1, 2):
            raise ValueError("directions must be 1 or 2")
        self.variant = VARIANTS[variant] if isinstance(variant, str) else variant
        self.input_size = int(input_size)
        self.hidden_size = int(hidden_size)
        self.directions = int(directions)
        self.gates = self.variant.gates
        self._n_early = sum(g in self.gates for g in ("i", "f"))
        width = (1 + len(self.gates)) * hidden_size
        d = self.directions
        self.weight_input = nn.Parameter(torch.empty(d, input_size, width))
        self.weight_recurrent = nn.Parameter(torch.empty(d, hidden_size, width))
        self.bias = nn.Parameter(torch.empty(d, width))
        self.peephole = (
            nn.Parameter(torch.empty(d, len(self.gates), hidden_size))
            if self.variant.peepholes and self.gates
            else None
        )
        self.gate_recurrent = (
            nn.Parameter(torch.empty(d, 3 * hidden_size, 3 * hidden_size))
            if self.variant.full_gate_recurrence
            else None
        )
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Draw every weight from U(-1/sqrt(H), 1/sqrt(H)), as torch.nn.LSTM does."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            nn.init.uniform_(p, -bound, bound)

    def initial_state(self, batch: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Zero block output, cell state and previous gate activations for ``batch`` sequences."""
        zeros = self.weight_input.new_zeros
        d, h = self.directions, self.hidden_size
        return zeros(d, batch, h), zeros(d, batch, h), zeros(d, batch, 3 * h)

    def project_inputs(self, x: torch.Tensor) -> torch.Tensor:
        """``W x_t + b`` for all steps at once: (D, T, B, I) -> (D, T, B, width)."""
        d, t, b, i = x.shape
        xw = torch.bmm(x.reshape(d, t * b, i), self.weight_input)
        return xw.reshape(d, t, b, -1) + self.bias[:, None, None, :]

    def step(
        self,
        xw_t: torch.Tensor,
        state: tuple[torch.Tensor, torch.Tensor, torch.Tensor],
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
        """One time step.

        Parameters
        ----------
        xw_t : Tensor, shape (D, B, width)
            The projected input ``W x_t + b`` of this step (see :meth:`project_inputs`).
        state : (y, c, a)
            Previous block output (D, B, H), cell state (D, B, H) and gate activations
            ``[i, f, o]`` of the previous step (D, B, 3H; read and updated by FGR only, zero
            at the first step).

        Returns
        -------
        y_t, (y_t, c_t, a_t)
        """
        y, c, a = state
        hs = self.hidden_size
        v = self.variant
        pre = torch.baddbmm(xw_t, y, self.weight_recurrent)
        z = torch.tanh(pre[..., :hs]) if v.input_activation else pre[..., :hs]
        gate_pre = pre[..., hs:]
        if self.gate_recurrent is not None:
            gate_pre = torch.baddbmm(gate_pre, a, self.gate_recurrent)
        d, b = z.shape[0], z.shape[1]
        # gates i and f (those the variant has) look at c_{t-1}: one fused block
        n_early = self._n_early
        i = f = o = None
        if n_early:
            early = gate_pre[..., : n_early * hs].reshape(d, b, n_early, hs)
            if self.peephole is not None:
                early = early + self.peephole[:, None, :n_early, :] * c[:, :, None, :]
            early = torch.sigmoid(early)
            if "i" in self.gates:
                i = early[:, :, 0]
            if "f" in self.gates:
                f = early[:, :, n_early - 1]
        if v.coupled:
            assert i is not None  # a coupled forget gate needs the input gate
            f = 1.0 - i
        zi = z * i if i is not None else z
        c_new = torch.addcmul(zi, c, f) if f is not None else c + zi
        if "o" in self.gates:
            o_pre = gate_pre[..., n_early * hs :]
            if self.peephole is not None:
                o_pre = torch.addcmul(o_pre, self.peephole[:, None, n_early, :], c_new)
            o = torch.sigmoid(o_pre)
        out = torch.tanh(c_new) if v.output_activation else c_new
        y_new = out * o if o is not None else out
        if self.gate_recurrent is not None:
            assert i is not None and f is not None and o is not None  # FGR has all three
            a = torch.cat([i, f, o], dim=-1)
        return y_new, (y_new, c_new, a)

    def forward(
        self, x: torch.Tensor, lengths: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Run the layer over padded sequences.

        Parameters
        ----------
        x : Tensor, shape (T, B, input_size)
            Time-major inputs, padded at the end.
        lengths : Tensor of int, shape (B,), optional
            True length of each sequence (all ``T`` if omitted).

        Returns
        -------
        outputs : Tensor, shape (T, B, D * H)
            Block outputs at every step; for the backward direction step ``t`` is the output
            after reading the sequence from its end back to position ``t``. Steps past a
            sequence's length hold garbage.
        final : Tensor, shape (B, D * H)
            Each direction's output after reading the whole sequence (forward: at the last
            element; backward: at the first).
        """
        steps, batch, _ = x.shape
        if lengths is None:
            lengths = torch.full((batch,), steps, dtype=torch.long)
        lengths = lengths.to(torch.long)
        if self.directions == 2:
            pos = torch.arange(steps)[:, None]
            rev = torch.where(pos < lengths[None, :], lengths[None, :] - 1 - pos, pos)
            x_rev = torch.gather(x, 0, rev[:, :, None].expand_as(x))
            xs = torch.stack([x, x_rev])
        else:
            xs = x[None]
        xw = self.project_inputs(xs)
        state = self.initial_state(batch)
        outputs = []
        for t in range(steps):
            y, state = self.step(xw[:, t], state)
            outputs.append(y)
        out = torch.stack(outputs, dim=1)  # (D, T, B, H)
        last = (lengths - 1).clamp(min=0)
        final = out[:, last, torch.arange(batch)]  # (D, B, H)
        final = final.permute(1, 0, 2).reshape(batch, -1)
        if self.directions == 2:
            fwd = out[0]
            bwd = torch.gather(out[1], 0, rev[:, :, None].expand_as(out[1]))
            outputs_t = torch.cat([fwd, bwd], dim=-1)
        else:
            outputs_t = out[0]
        return outputs_t, final
