"""Networks of the sweep: one LSTM hidden layer and a task-specific output layer."""

from __future__ import annotations

import torch
from torch import nn

from .cells import LSTMLayer


class SequenceClassifier(nn.Module):
    """Bidirectional LSTM layer; softmax over classes from both directions' final outputs.

    Parameters
    ----------
    n_inputs, n_classes, hidden_size : int
    variant : str
        Variant code (see :data:`odyssey_sweep.cells.VARIANTS`).
    directions : int
        2 (bidirectional, the default) or 1.
    """

    def __init__(
        self, n_inputs: int, n_classes: int, hidden_size: int, variant: str, directions: int = 2
    ) -> None:
        super().__init__()
        self.lstm = LSTMLayer(n_inputs, hidden_size, variant, directions)
        self.readout = nn.Linear(directions * hidden_size, n_classes)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Class logits (B, n_classes) of time-major padded inputs (T, B, n_inputs)."""
        _, final = self.lstm(x, lengths)
        return self.readout(final)


class NextFramePredictor(nn.Module):
    """Forward LSTM layer; independent sigmoid per output unit at every step.

    Parameters
    ----------
    n_inputs, hidden_size : int
    variant : str
    """

    def __init__(self, n_inputs: int, hidden_size: int, variant: str) -> None:
        super().__init__()
        self.lstm = LSTMLayer(n_inputs, hidden_size, variant, 1)
        self.readout = nn.Linear(hidden_size, n_inputs)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Logits (T, B, n_inputs) of the next frame after each input step."""
        outputs, _ = self.lstm(x, lengths)
        return self.readout(outputs)


def count_parameters(model: nn.Module) -> int:
    """Number of trainable scalars in ``model``."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
