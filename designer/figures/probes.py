"""Figures of what a probe saw (the Inspect page): hidden units over time, gates, the
layer x time picture of ||dL/dh_t|| (vanishing gradients), and how gradients, spectral
radii and hidden-state trajectories change over training (from the probes a run
recorded).

Inputs are probe summaries (designer.inside.probes.ProbeSummary): per layer the norms as
lists and the states as (D, T, B, H) tensors. Heatmaps are capped in size (every
redraw sends the whole figure to the browser): wider ones show every k-th unit/step.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from designer.figures.style import GREY, SERIES_COLORS, laid_out
from designer.i18n import _
from designer.inside.probes import ProbeSummary
from designer.inside.whatif import gate_label

MAX_UNITS = 128
MAX_STEPS = 300
LAYER_COLORS = SERIES_COLORS


def _stride(n: int, cap: int) -> int:
    return max(1, math.ceil(n / cap))


def _layer_name(layer: dict) -> str:
    return f"{layer['index']} {layer['type']}"


def state_heatmap(
    layer: dict,
    sample: int,
    what: str = "hidden",
    gate: str | None = None,
    marks: Sequence[int] = (),
) -> go.Figure:
    """Units x time for one sample: the state `what` ('hidden' or 'cell'), or with
    `gate` that gate's activations (the LSTM has a gate called 'cell' too). `marks`:
    steps the task's answer depends on (the adding problem's marked values), drawn as
    lines, where a unit that has learned the task changes."""
    values = layer["gates"][gate] if gate else layer[what]
    data = values[:, :, sample].float().numpy()  # (D, T, H)
    D, T, H = data.shape
    st, su = _stride(T, MAX_STEPS), _stride(H, MAX_UNITS)
    rows, labels = [], []
    for d in range(D):
        for unit in range(0, H, su):
            rows.append(data[d, ::st, unit])
            arrow = ("→", "←")[d] if D == 2 else ""
            labels.append(f"{arrow}{unit}")
    bounded01 = gate is not None and gate not in ("cell", "new")  # sigmoid gates
    fig = go.Figure(
        go.Heatmap(
            z=np.array(rows),
            x=list(range(0, T, st)),
            y=labels,
            colorscale="Viridis" if bounded01 else "RdBu",
            zmid=None if bounded01 else 0,
            zmin=0 if bounded01 else None,
            zmax=1 if bounded01 else None,
            colorbar={
                "thickness": 10,
                "title": {"text": gate or ("c_t" if what == "cell" else "h_t")},
            },
            hovertemplate=_("t %{x}<br>unit %{y}<br>%{z:.3f}") + "<extra></extra>",
        )
    )
    for step in marks:
        fig.add_vline(
            x=step,
            line={"color": "#E45756", "width": 2, "dash": "dot"},
            annotation_text=_("marked"),
            annotation_position="top",
            annotation_font={"color": "#E45756", "size": 12},
        )
    if gate:
        title = _("Layer {layer}: {gate}").format(layer=_layer_name(layer), gate=gate_label(gate))
    elif what == "cell":
        title = _("Layer {layer}: cell state c_t").format(layer=_layer_name(layer))
    else:
        title = _("Layer {layer}: hidden state h_t").format(layer=_layer_name(layer))
    return laid_out(
        fig,
        title,
        height=min(420, 120 + 4 * len(rows)),
        xaxis_title=_("time step t"),
        yaxis={"title": _("unit"), "showticklabels": len(rows) <= 40},
    )


def gradient_heatmap(summary: ProbeSummary) -> go.Figure:
    """Layers x time, colour = log10 of the mean ||dL/dh_t||; the bottom row is the
    input's ||dL/dx_t||. Vanishing gradients show as colour fading away from the loss."""
    rows = [summary.input_grad_norm] + [layer["grad_norm"] for layer in summary.layers]
    names = [_("input x")] + [_layer_name(layer) for layer in summary.layers]
    z = np.log10(np.maximum(np.array(rows, dtype=float), 1e-30))
    T = z.shape[1]
    st = _stride(T, MAX_STEPS)
    low, high = math.floor(z.min()), math.ceil(z.max())
    ticks = list(range(low, high + 1, max(1, (high - low) // 6)))
    fig = go.Figure(
        go.Heatmap(
            z=z[:, ::st],
            x=list(range(0, T, st)),
            y=names,
            colorscale="Viridis",
            colorbar={
                "title": {"text": "‖dL/dh_t‖"},
                "tickvals": ticks,
                "ticktext": [f"1e{k}" for k in ticks],
                "thickness": 12,
            },
            customdata=np.array(rows)[:, ::st],
            hovertemplate="%{y}, t %{x}<br>‖dL/dh_t‖ = %{customdata:.3g}<extra></extra>",
        )
    )
    if summary.step is not None:
        title = _("Gradient reaching each layer and step (probe at step {step})").format(
            step=summary.step
        )
    else:
        title = _("Gradient reaching each layer and step (untrained)")
    return laid_out(fig, title, height=140 + 34 * len(names), xaxis_title=_("time step t"))


def _layer_of(parameter: str) -> str:
    """'layers.2.cell.weight_hh_l0' -> 'layer 2'; 'head.weight' -> 'head'."""
    parts = parameter.split(".")
    if parts[0] == "layers":
        return _("layer {index}").format(index=parts[1])
    return _("head") if parts[0] == "head" else parts[0]


def _lines_over_training(series: dict[str, list[tuple[int, float]]]) -> go.Figure:
    """One line of (step, value) points a series, in the layers' colours by order."""
    fig = go.Figure()
    for i, (name, points) in enumerate(series.items()):
        fig.add_trace(
            go.Scatter(
                x=[step for step, _ in points],
                y=[value for _, value in points],
                mode="lines+markers",
                name=name,
                line={"color": LAYER_COLORS[i % len(LAYER_COLORS)]},
            )
        )
    return fig


def param_grad_figure(probes: list[ProbeSummary], height: int = 300) -> go.Figure:
    """Per layer, the norm of the loss gradient over all its parameters, at each probe."""
    series: dict[str, list[tuple[int, float]]] = defaultdict(list)
    for summary in probes:
        squares: dict[str, float] = defaultdict(float)
        for name, norm in summary.param_grad_norms.items():
            squares[_layer_of(name)] += norm**2
        for layer, square in squares.items():
            # floored: a log axis has no place for an exact zero
            series[layer].append((summary.step, max(math.sqrt(square), 1e-30)))
    return laid_out(
        _lines_over_training(series),
        _("Parameter gradient norm per layer"),
        height,
        bottom=40,
        xaxis_title=_("step"),
        yaxis={"type": "log", "title": "‖dL/dW‖"},
        plot_bgcolor="white",
    )


def spectral_figure(probes: list[ProbeSummary], height: int = 300) -> go.Figure:
    """Spectral radius of each recurrent weight block (per gate, per direction) over
    training. Above 1 a linearised recurrence amplifies, below 1 it forgets."""
    series: dict[str, list[tuple[int, float]]] = defaultdict(list)
    for summary in probes:
        for layer in summary.layers:
            for gate, radii in layer["spectral_radius"].items():
                for d, radius in enumerate(radii):
                    arrow = " ←" if d == 1 else ""
                    series[f"{_layer_name(layer)} {gate}{arrow}"].append((summary.step, radius))
    fig = _lines_over_training(series)
    fig.add_hline(y=1.0, line={"dash": "dash", "color": GREY, "width": 1})
    return laid_out(
        fig,
        _("Spectral radius of the recurrent weights"),
        height,
        bottom=40,
        xaxis_title=_("step"),
        yaxis_title=_("max |eigenvalue| of W_hh"),
        plot_bgcolor="white",
    )


def pca_figure(summary: ProbeSummary, sample: int) -> go.Figure:
    """Each layer's hidden-state trajectory for one sample, projected on its first two
    principal components (computed over that trajectory), coloured by time."""
    layers = summary.layers
    cols = min(4, max(1, len(layers)))
    rows = math.ceil(len(layers) / cols) if layers else 1
    fig = make_subplots(
        rows=rows,
        cols=cols,
        subplot_titles=[_("layer {layer}").format(layer=_layer_name(layer)) for layer in layers],
    )
    for i, layer in enumerate(layers):
        h = layer["hidden"][:, :, sample].float()  # (D, T, H)
        path = h.permute(1, 0, 2).reshape(h.shape[1], -1).numpy()  # (T, D*H)
        centred = path - path.mean(axis=0)
        if centred.shape[0] > 1 and np.abs(centred).max() > 0:
            _u, _s, vt = np.linalg.svd(centred, full_matrices=False)
            xy = centred @ vt[:2].T
        else:
            xy = np.zeros((path.shape[0], 2))
        if xy.shape[1] < 2:
            xy = np.hstack([xy, np.zeros((xy.shape[0], 1))])
        T = xy.shape[0]
        fig.add_trace(
            go.Scatter(
                x=xy[:, 0],
                y=xy[:, 1],
                mode="lines+markers",
                showlegend=False,
                marker={
                    "color": list(range(T)),
                    "colorscale": "Plasma",
                    "size": 5,
                    "showscale": i == 0,
                    "colorbar": {"title": {"text": "t"}, "thickness": 10},
                },
                line={"color": "#bdc3c7", "width": 1},
                hovertemplate="t %{marker.color}<extra></extra>",
            ),
            row=i // cols + 1,
            col=i % cols + 1,
        )
    return laid_out(
        fig,
        _("Hidden-state trajectories (PCA, one sample)"),
        height=260 * rows + 40,
        top=60,
        bottom=20,
    )


def gradient_lines(summary: ProbeSummary, height: int = 320) -> go.Figure:
    """||dL/dh_t|| against t, one line per layer (and the input's ||dL/dx_t||), on a
    log scale: a straight falling line is an exponential decay through time."""
    fig = go.Figure()
    T = len(summary.input_grad_norm)
    for i, layer in enumerate(summary.layers):
        fig.add_trace(
            go.Scatter(
                x=list(range(T)),
                y=[max(v, 1e-30) for v in layer["grad_norm"]],
                mode="lines",
                name=_("layer {layer}").format(layer=_layer_name(layer)),
                line={"color": LAYER_COLORS[i % len(LAYER_COLORS)], "width": 2},
            )
        )
        if layer.get("cell_grad_norm"):
            fig.add_trace(
                go.Scatter(
                    x=list(range(T)),
                    y=[max(v, 1e-30) for v in layer["cell_grad_norm"]],
                    mode="lines",
                    name=_("layer {layer} cell c_t").format(layer=_layer_name(layer)),
                    line={
                        "color": LAYER_COLORS[i % len(LAYER_COLORS)],
                        "width": 1.5,
                        "dash": "dot",
                    },
                )
            )
    fig.add_trace(
        go.Scatter(
            x=list(range(T)),
            y=[max(v, 1e-30) for v in summary.input_grad_norm],
            mode="lines",
            name=_("input x_t"),
            line={"color": GREY, "width": 1.5, "dash": "dash"},
        )
    )
    return laid_out(
        fig,
        _("‖dL/dh_t‖ through time (log scale)"),
        height,
        bottom=40,
        xaxis_title=_("time step t"),
        yaxis={"type": "log", "exponentformat": "power"},
        plot_bgcolor="white",
        hovermode="x unified",
    )
