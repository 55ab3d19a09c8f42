"""Write the notebooks of this folder (without outputs) from the cells below.

Run ``python notebooks/make_notebooks.py`` after editing a cell here; the test suite
executes the notebooks it writes.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).parent

QUICKSTART = [
    new_markdown_cell(
        "# Quickstart\n\n"
        "Load a sweep, find out which hyperparameters matter (functional ANOVA on a "
        "random-forest surrogate), draw a marginal curve, and compare model variants. "
        "The data is the mini Odyssey study bundled with the package: LSTM variants "
        "trained on three small tasks with random hyperparameters."),
    new_code_cell(
        "import matplotlib.pyplot as plt\n\n"
        "from odyssey_analysis import (\n"
        "    FanovaMethod,\n"
        "    ForestSettings,\n"
        "    RandomForestSurrogate,\n"
        "    analyze,\n"
        "    load_trials,\n"
        ")\n"
        "from odyssey_analysis.compare import compare\n"
        "from odyssey_analysis.plots import plot_marginal\n"
        "from odyssey_analysis.report import bundled_table\n\n"
        "table = load_trials(bundled_table())\n"
        "print(f\"{len(table)} trials, {table.n_excluded} excluded\")\n"
        "print('groups:', table.group_keys)\n"
        "print('hyperparameters:', table.hyperparameters)\n"
        "print('responses:', table.responses)"),
    new_markdown_cell(
        "Every hyperparameter is integrated over the distribution it was sampled from "
        "(its *measure*). Check it before trusting any number:"),
    new_code_cell(
        "space = table.resolve_space()\n"
        "for hp in space:\n"
        "    print(f'{hp.name:>14}: {hp.describe_measure()}')"),
    new_markdown_cell(
        "Analyse the vanilla LSTM (`variant == 'V'`) on every task: one forest per task "
        "and response. Few trees keep this quick; use the default 64 for real work. "
        "For a handful of fits one process (`n_jobs=1`) is quicker than starting workers."),
    new_code_cell(
        "vanilla = table.subset(variant='V')\n"
        "method = FanovaMethod(RandomForestSurrogate(ForestSettings(n_trees=16, seed=0)))\n"
        "study = analyze(vanilla, method, response=['test_error', 'train_time'], n_jobs=1)\n"
        "importance = study.importance_table()\n"
        "mains = importance[(importance.response == 'test_error') & (importance.order == 1)]\n"
        "mains.pivot(index='effect', columns='task', values='fraction').round(3)"),
    new_markdown_cell(
        "The marginal of the test error over the learning rate on one task: the line is "
        "the mean over the forest's trees, the band their standard deviation."),
    new_code_cell(
        "speech = study.get('test_error', task='speech', variant='V')\n"
        "fig, ax = plt.subplots(figsize=(4, 3), layout='constrained')\n"
        "plot_marginal(speech.marginals['learning_rate'], ax=ax, ylabel='test error')\n"
        "ax.set_title(f'speech (OOB R² {speech.oob_r2:.2f})');"),
    new_markdown_cell(
        "Compare every variant with the vanilla LSTM (Welch's t-test over the best 10% "
        "of each variant's runs, chosen by validation error):"),
    new_code_cell(
        "comparison = compare(table).table\n"
        "comparison[comparison.significant][['task', 'variant', 'top_mean', 'p_value', "
        "'direction']]"),
    new_markdown_cell(
        "Everything at once, with every figure and an HTML page: "
        "`odyssey report --out report` on the command line."),
]

FIGURES = [
    new_markdown_cell(
        "# The figures of “LSTM: A Search Space Odyssey”, from the bundled study\n\n"
        "Greff et al. (2017) compared eight LSTM variants with the vanilla LSTM on three "
        "tasks and measured, with functional ANOVA, how much each hyperparameter matters. "
        "This notebook draws each of their analyses (Figures 3–6) from the mini study "
        "bundled with the package. The mini study is far smaller than the paper's "
        "5400 runs, so expect noisier numbers; the way to read each figure is the same."),
    new_code_cell(
        "from odyssey_analysis import (\n"
        "    FanovaMethod,\n"
        "    ForestSettings,\n"
        "    RandomForestSurrogate,\n"
        "    analyze,\n"
        "    load_trials,\n"
        ")\n"
        "from odyssey_analysis.compare import compare\n"
        "from odyssey_analysis.plots import (\n"
        "    fractions_figure,\n"
        "    interactions_figure,\n"
        "    marginals_figure,\n"
        "    variants_figure,\n"
        ")\n"
        "from odyssey_analysis.report import bundled_table\n"
        "from odyssey_analysis.tables import main_effects_display, main_effects_table\n\n"
        "table = load_trials(bundled_table())\n"
        "print(f\"{len(table)} trials analysed; excluded: {table.excluded_counts() or 'none'}\")"),
    new_markdown_cell(
        "## Figure 3 — how the variants compare\n\n"
        "One box per variant and task: all trials in the top row, each variant's best 10% "
        "of trials (chosen by validation error) in the bottom row. The box spans the 25th "
        "to 75th percentile, the whiskers the minimum to the maximum; the red dot is the "
        "mean and the red line the median. A blue, thick box differs significantly from "
        "the vanilla LSTM (V) by Welch's t-test (p < 0.05, no correction for multiple "
        "comparisons, as in the paper). Grey bars (right axis) give the mean number of "
        "parameters of the top runs: a variant that wins only with more parameters shows "
        "it there. Lower is better on every task.\n\n"
        "**What the paper found:** no variant beats the vanilla LSTM significantly; "
        "removing the forget gate (NFG) or the output activation (NOAF) hurts on every "
        "task; coupling the input and forget gates (CIFG) or dropping the peepholes (NP) "
        "costs nothing significant.\n\n"
        "**What this study shows** is in the figure and the table below; read them rather "
        "than the paper. On the bundled data NFG and FGR (full gate recurrence) are worse "
        "on every task, NOAF only on music, and on music a few variants differ either way "
        "(CIFG even comes out better there): with 200 short trainings per variant the "
        "music task separates the variants more than the other two."),
    new_code_cell(
        "comparison = compare(table, metric='test_error', select_by='valid_error',\n"
        "                     top_fraction=0.1, reference='V')\n"
        "variants_figure(comparison)"),
    new_code_cell(
        "comparison.table[['task', 'variant', 'top_n', 'top_mean', 'p_value', 'significant',\n"
        "                  'direction', 'p_value_all']].round(4)"),
    new_markdown_cell(
        "## The decomposition behind Figures 4–6\n\n"
        "A random forest is fitted from the hyperparameters to the test error (and to the "
        "training time) of the vanilla LSTM on each task, and its functional ANOVA is "
        "computed exactly from the trees. Each hyperparameter is averaged over the "
        "distribution it was sampled from (log-uniform for the learning rate and the "
        "hidden size). 32 trees in one process keep the notebook quick."),
    new_code_cell(
        "vanilla = table.subset(variant='V')\n"
        "method = FanovaMethod(RandomForestSurrogate(ForestSettings(n_trees=32, seed=0)))\n"
        "study = analyze(vanilla, method, response=['test_error', 'train_time'], n_jobs=1)\n"
        "for fit in study:\n"
        "    print(f\"{fit.group['task']:>12} {fit.response:>11}: {fit.n_trials} trials, \"\n"
        "          f\"OOB R² {fit.oob_r2:.2f}\")"),
    new_markdown_cell(
        "Out-of-bag R² says how well each forest predicts trials it did not see. Where it "
        "is low, the curves and shares below are uncertain.\n\n"
        "## Figure 4 — marginal curves\n\n"
        "Each panel shows the predicted test error with one hyperparameter fixed and all "
        "others averaged out: the line is the mean over the forest's trees and the shaded "
        "band one standard deviation across trees, which says how much the trees disagree, "
        "not how spread out the data are. The dashed line on the right axis is the "
        "training time. Look for the region where the error is low and flat.\n\n"
        "**What the paper found:** the good learning rates span about two orders of "
        "magnitude, larger networks help and cost time, and momentum barely matters.\n\n"
        "**What this study shows:** read it off the curves below; on the bundled data the "
        "learning rate again has a wide good region, while the hidden size changes the "
        "training time far more than the error."),
    new_code_cell("marginals_figure(study, response='test_error', secondary='train_time')"),
    new_markdown_cell(
        "## Figure 5 — how much each hyperparameter matters\n\n"
        "The pies share out the variance of the test error: each wedge is the part "
        "explained by one hyperparameter on its own (its main effect) and the grey "
        "'higher order' wedge is what only combinations of hyperparameters explain. The "
        "bars give the same shares with one standard deviation across trees, the largest "
        "pairwise interactions, and what is left beyond pairs.\n\n"
        "**What the paper found:** the learning rate explains more than two thirds of the "
        "variance on every task, then the hidden size; input noise is small and momentum "
        "under 1%.\n\n"
        "**What this study shows:** the table under the figure gives the shares. On the "
        "bundled data the learning rate dominates as well, but with a little under two "
        "thirds on speech, and the pairs take a visible share (the learning rate with "
        "momentum above all, 15% and more on some tasks), and momentum has a main effect "
        "of a few percent on handwriting and music."),
    new_code_cell("fractions_figure(study, response='test_error')"),
    new_code_cell(
        "wide = main_effects_table(study.importance_table(), response='test_error')\n"
        "main_effects_display(wide, study.group_keys)"),
    new_markdown_cell(
        "## Figure 6 — interactions\n\n"
        "For each pair of hyperparameters, the left matrix shows the predicted test error "
        "with both fixed (the others averaged out; dark blue is low, yellow high). The "
        "right matrix keeps only the interaction: the joint effect minus both main effects. "
        "Grey means none; blue means the pair does better together than their separate "
        "effects predict, red worse.\n\n"
        "**What the paper found:** interactions are small and patternless, so the "
        "hyperparameters can be tuned one at a time — for instance the learning rate on "
        "a small network first.\n\n"
        "**What this study shows:** look for structure in the right-hand matrices below. "
        "On the bundled data the learning rate × momentum cell is not grey: with a small "
        "learning rate a high momentum helps and a low one hurts (the step size that "
        "counts is the learning rate over 1 − momentum), so on these short trainings the "
        "two should be tuned together."),
    new_code_cell(
        "for task in ('speech', 'handwriting', 'music'):\n"
        "    fit = study.get('test_error', task=task, variant='V')\n"
        "    display(interactions_figure(fit))"),
    new_markdown_cell(
        "All of this, for every variant, with tables in CSV, Markdown and LaTeX and an "
        "HTML page: `odyssey report --out report`."),
]


def write(name: str, cells: list) -> Path:
    """Write one notebook with no outputs."""
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"{Path(name).stem.split('_')[0]}-{i:02d}"
    path = HERE / name
    nbformat.validate(nb)
    path.write_text(nbformat.writes(nb) + "\n", encoding="utf-8")
    return path


if __name__ == "__main__":
    print(write("01_quickstart.ipynb", QUICKSTART))
    print(write("02_odyssey_figures.ipynb", FIGURES))
