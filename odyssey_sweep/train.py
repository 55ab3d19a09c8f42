"""Training and evaluation of one trial.

SGD with Nesterov momentum on minibatches, gradients through whole sequences (no truncation),
additive Gaussian input noise during training only, early stopping on the validation metric.
The test metric reported is the one at the epoch with the best validation metric. A trial is
reproducible bit for bit from its seed and hyperparameters on the same machine and torch build:
torch runs single-threaded, and the seed fixes the initial weights (``torch.manual_seed``), the
batch order and the noise.
"""

from __future__ import annotations

import math
import time

import numpy as np
import torch
import torch.nn.functional as F

from .models import NextFramePredictor, SequenceClassifier, count_parameters
from .space import METRICS, RESULT_COLUMNS, TrialSpec
from .tasks import SETTINGS, SequenceSet, TaskData, epoch_batches, load_task


class Diverged(RuntimeError):
    """The loss or a metric became NaN or infinite."""


def build_model(task: TaskData, hidden_size: int, variant: str,
                bidirectional: bool) -> SequenceClassifier | NextFramePredictor:
    """The network for ``task`` (classifier or next-frame predictor)."""
    if task.kind == "classification":
        return SequenceClassifier(
            task.n_inputs, task.n_outputs, hidden_size, variant, 2 if bidirectional else 1
        )
    return NextFramePredictor(task.n_inputs, hidden_size, variant)


def _tensors(batch: SequenceSet) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    return torch.from_numpy(batch.x), torch.from_numpy(batch.lengths), torch.from_numpy(batch.y)


def _loss_terms(
    model: torch.nn.Module, kind: str, x: torch.Tensor, lengths: torch.Tensor, y: torch.Tensor
) -> tuple[torch.Tensor, float]:
    """(summed loss, count): summed cross-entropy over sequences, or summed frame NLL and the
    number of predicted frames."""
    out = model(x, lengths)
    if kind == "classification":
        return F.cross_entropy(out, y, reduction="sum"), float(len(y))
    mask = torch.arange(x.shape[0])[:, None] < lengths[None, :]
    bce = F.binary_cross_entropy_with_logits(out, y, reduction="none").sum(-1)
    return (bce * mask).sum(), float(mask.sum())


@torch.no_grad()
def evaluate(
    model: torch.nn.Module, task: TaskData, split: SequenceSet, batch_size: int = 64
) -> float:
    """The task's metric on a whole split: frame NLL (nats) or classification error.

    The split is evaluated in batches of similar lengths, to keep padding small.
    """
    model.eval()
    order = np.argsort(split.lengths, kind="stable")
    total, count = 0.0, 0.0
    for k in range(0, len(order), batch_size):
        x, lengths, y = _tensors(split.batch(order[k : k + batch_size]))
        if task.kind == "classification":
            total += float((model(x, lengths).argmax(-1) != y).sum())
            count += len(y)
        else:
            loss, n = _loss_terms(model, task.kind, x, lengths, y)
            total += float(loss)
            count += n
    model.train()
    return total / count


def train_model(
    spec: TrialSpec,
    task: TaskData,
    max_epochs: int,
    patience: int,
    batch_size: int,
    bidirectional: bool,
    max_train: int | None = None,
) -> dict[str, object]:
    """Train one network of ``spec`` on ``task``; returns the result fields of the trial."""
    torch.manual_seed(spec.seed)
    rng = np.random.default_rng(spec.seed)
    model = build_model(task, spec.hidden_size, spec.variant, bidirectional)
    optimiser = torch.optim.SGD(
        model.parameters(),
        lr=spec.learning_rate,
        momentum=spec.momentum,
        nesterov=spec.momentum > 0,
    )
    best_valid, best_test = math.inf, math.nan
    best_state: dict[str, torch.Tensor] = {}
    since_best, epochs = 0, 0
    train = task.train.head(max_train)
    start = time.perf_counter()
    try:
        for epoch in range(1, max_epochs + 1):
            epochs = epoch
            for idx in epoch_batches(train.lengths, batch_size, rng):
                x, lengths, y = _tensors(train.batch(idx))
                if spec.input_noise > 0:
                    x = x + spec.input_noise * torch.randn_like(x)
                total, count = _loss_terms(model, task.kind, x, lengths, y)
                loss = total / count
                if not torch.isfinite(loss):
                    raise Diverged
                optimiser.zero_grad(set_to_none=True)
                loss.backward()
                optimiser.step()
            valid = evaluate(model, task, task.valid)
            if not math.isfinite(valid):
                raise Diverged
            if valid < best_valid:
                best_valid, since_best = valid, 0
                best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            else:
                since_best += 1
                if since_best >= patience:
                    break
        model.load_state_dict(best_state)
        best_test = evaluate(model, task, task.test)
        if not math.isfinite(best_test):
            raise Diverged
        diverged = False
    except Diverged:
        diverged = True
    return {
        "valid_error": math.nan if diverged else best_valid,
        "test_error": math.nan if diverged else best_test,
        "metric": METRICS[spec.task],
        "train_time": round(time.perf_counter() - start, 3),
        "epochs": epochs,
        "n_params": count_parameters(model),
        "diverged": diverged,
        "status": "diverged" if diverged else "ok",
    }


def run_trial(
    spec: TrialSpec,
    max_epochs: int | None = None,
    data_dir: str | None = None,
) -> dict[str, object]:
    """Run one trial of the sweep and return its result row.

    Parameters
    ----------
    spec : TrialSpec
        Task, variant, seed and hyperparameters
        (see :func:`odyssey_sweep.space.make_trial`).
    max_epochs : int, optional
        Cap on the number of epochs (default: the task's setting in
        :data:`odyssey_sweep.tasks.SETTINGS`).
    data_dir : str, optional
        Folder of the converted ``.npz`` files (default: the package's data folder).

    Returns
    -------
    dict
        One value per name in :data:`RESULT_COLUMNS`.
    """
    torch.set_num_threads(1)
    settings = SETTINGS[spec.task]
    task = load_task(spec.task, data_dir)
    result = train_model(
        spec,
        task,
        max_epochs=max_epochs or settings.max_epochs,
        patience=settings.patience,
        batch_size=settings.batch_size,
        bidirectional=settings.bidirectional,
        max_train=settings.max_train,
    )
    row = {**spec.as_dict(), **result}
    return {k: row[k] for k in RESULT_COLUMNS}
