"""Ready-made search spaces."""

from __future__ import annotations

from .space import Hyperparameter, SearchSpace


def odyssey_space() -> SearchSpace:
    """The search space of "LSTM: A Search Space Odyssey" (Greff et al., 2017).

    Returns
    -------
    SearchSpace
        ``learning_rate`` log-uniform on [1e-6, 1e-2]; ``hidden_size`` log-uniform
        integer on [20, 200]; ``momentum`` = 1 - (log-uniform on [0.01, 1]), so in
        [0, 0.99] and dense near 0.99; ``input_noise`` uniform on [0, 1].
    """
    return SearchSpace(
        (
            Hyperparameter("learning_rate", "float", 1e-6, 1e-2, "log"),
            Hyperparameter("hidden_size", "int", 20, 200, "log"),
            Hyperparameter("momentum", "float", 0.0, 0.99, "one_minus_log"),
            Hyperparameter("input_noise", "float", 0.0, 1.0, "linear"),
        ),
        origin="preset: odyssey_space()",
    )
