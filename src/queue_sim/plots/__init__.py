"""Figures drawn from results folders: ``plot_*(results, *, ax=None) -> Axes`` and the standard set.

Reads only results folders (never live runs); imports no engine.
"""

from queue_sim.plots.base import (
    STYLE,
    ResultsFolder,
    drawn_data,
    metric_label,
    open_results,
    save_figure,
    save_with_data,
)
from queue_sim.plots.figures import (
    draw_standard_figures,
    plot_differences,
    plot_heatmap,
    plot_metric_vs_factor,
    plot_queue_length,
    plot_wait_ecdf,
)

__all__ = [
    "STYLE",
    "ResultsFolder",
    "draw_standard_figures",
    "drawn_data",
    "metric_label",
    "open_results",
    "plot_differences",
    "plot_heatmap",
    "plot_metric_vs_factor",
    "plot_queue_length",
    "plot_wait_ecdf",
    "save_figure",
    "save_with_data",
]
