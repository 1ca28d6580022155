"""The equations of each layer type, as LaTeX strings (one equation per string).

They follow PyTorch's own conventions, so they describe exactly what the model
computes: gate order i, f, g, o for the LSTM and r, z, n for the GRU, with the GRU's
reset gate applied after the recurrent product, n_t = tanh(W_in x_t + b_in +
r_t * (W_hn h_{t-1} + b_hn)). Symbols are shared by all layers so that a page can
substitute numbers into them:

    x_t      the layer's input at step t          h_t, c_t  hidden and cell state
    W_{ih}   input-to-hidden weights (per gate: W_{ii}, W_{if}, W_{ig}, W_{io}, ...)
    W_{hh}   hidden-to-hidden weights (per gate: W_{hi}, W_{hf}, ...)
    b_{ih}, b_{hh}  the matching biases         y_t  the layer's output at step t
    \\odot   element-wise product                \\sigma  the logistic sigmoid
"""

from __future__ import annotations

from designer.i18n import N_, _

# Shown through _() where they are drawn.
TITLES = {
    "rnn": "RNN (Elman)",
    "lstm": N_("LSTM: input, forget, cell and output gates"),
    "gru": N_("GRU: reset and update gates"),
    "linear": N_("Linear (at every step)"),
    "layernorm": N_("Layer normalisation"),
    "dropout": "Dropout",
    "attention": N_("Attention (single head, over time steps)"),
    "residual": N_("Residual connection"),
    "bidirectional": N_("Bidirectional layer"),
}

_ACTIVATIONS = {
    "none": None,
    "relu": r"\operatorname{ReLU}",
    "tanh": r"\tanh",
    "sigmoid": r"\sigma",
    "gelu": r"\operatorname{GELU}",
}


def _gate(name: str, gate: str, act: str) -> str:
    return (
        rf"{name}_t = {act}\left(W_{{i{gate}}}\,x_t + b_{{i{gate}}} "
        rf"+ W_{{h{gate}}}\,h_{{t-1}} + b_{{h{gate}}}\right)"
    )


# The residual connection: the layer's own output h_t (or y'_t) plus its input, through
# a learned projection P when the widths differ (P is the identity when they match).
# The words in \text{} are translated: residual_equation() and bidirectional_equation()
# give them in the reader's language (these constants are the English ones).
_RESIDUAL = r"y_t = h_t + P\,x_t \quad (P = I \text{{ {words}}})"
_BIDIRECTIONAL = (
    r"h_t = \left[\,\overrightarrow{{h}}_t \,;\, \overleftarrow{{h}}_t\,\right]"
    r"\quad \text{{({words})}}"
)
RESIDUAL = _RESIDUAL.format(words="when the widths match")
BIDIRECTIONAL = _BIDIRECTIONAL.format(words="forward and backward passes, concatenated")


def residual_equation() -> str:
    """RESIDUAL in the reader's language."""
    return _RESIDUAL.format(words=_("when the widths match"))


def bidirectional_equation() -> str:
    """BIDIRECTIONAL in the reader's language."""
    return _BIDIRECTIONAL.format(words=_("forward and backward passes, concatenated"))


def equations(
    layer_type: str,
    residual: bool = False,
    *,
    nonlinearity: str = "tanh",
    activation: str = "none",
    causal: bool = False,
    leak_rate: float = 1.0,
) -> list[str]:
    """LaTeX lines for one layer type; with `residual`, a last line adds the skip path.

    `nonlinearity` (rnn: tanh or relu), `leak_rate` (rnn: below 1, a leaky
    integrator), `activation` (linear) and `causal` (attention) pick the variant;
    ValueError for an unknown layer type."""
    if layer_type == "rnn":
        act = r"\operatorname{ReLU}" if nonlinearity == "relu" else r"\tanh"
        cell = rf"{act}\left(W_{{ih}}\,x_t + b_{{ih}} + W_{{hh}}\,h_{{t-1}} + b_{{hh}}\right)"
        if leak_rate < 1.0:  # a leaky integrator: a share a of the new state each step
            lines = [
                rf"\tilde h_t = {cell}",
                rf"h_t = (1 - a)\,h_{{t-1}} + a\,\tilde h_t \quad (a = {leak_rate:g})",
            ]
        else:
            lines = [rf"h_t = {cell}"]
    elif layer_type == "lstm":
        lines = [
            _gate("i", "i", r"\sigma"),
            _gate("f", "f", r"\sigma"),
            _gate("g", "g", r"\tanh"),
            _gate("o", "o", r"\sigma"),
            r"c_t = f_t \odot c_{t-1} + i_t \odot g_t",
            r"h_t = o_t \odot \tanh(c_t)",
        ]
    elif layer_type == "gru":
        lines = [
            _gate("r", "r", r"\sigma"),
            _gate("z", "z", r"\sigma"),
            r"n_t = \tanh\left(W_{in}\,x_t + b_{in} + r_t \odot "
            r"\left(W_{hn}\,h_{t-1} + b_{hn}\right)\right)",
            r"h_t = (1 - z_t) \odot n_t + z_t \odot h_{t-1}",
        ]
    elif layer_type == "linear":
        act = _ACTIVATIONS.get(activation)
        inner = r"W\,x_t + b"
        lines = [rf"h_t = {act}\left({inner}\right)" if act else rf"h_t = {inner}"]
    elif layer_type == "layernorm":
        lines = [
            r"\mu_t = \frac{1}{D}\sum_{k=1}^{D} x_{t,k}, \quad "
            r"\sigma_t^2 = \frac{1}{D}\sum_{k=1}^{D} (x_{t,k} - \mu_t)^2",
            r"h_t = \gamma \odot \frac{x_t - \mu_t}{\sqrt{\sigma_t^2 + \epsilon}} + \beta",
        ]
    elif layer_type == "dropout":
        lines = [
            r"h_t = \frac{m_t \odot x_t}{1 - p}, \quad m_t \sim \operatorname{Bernoulli}(1 - p)"
            + r"\ \text{("
            + _("training only; {equation} at evaluation").format(equation=r"} h_t = x_t \text{")
            + ")}"
        ]
    elif layer_type == "attention":
        scope = r"s \le t" if causal else r"\text{" + _("all") + r" } s"
        lines = [
            r"q_t = W_q\,x_t + b_q, \quad k_s = W_k\,x_s + b_k, \quad v_s = W_v\,x_s + b_v",
            rf"a_{{ts}} = \operatorname{{softmax}}_s\left(\frac{{q_t \cdot k_s}}{{\sqrt{{D}}}}"
            rf"\right) \quad ({scope})",
            r"h_t = W_o \sum_s a_{ts}\, v_s + b_o",
        ]
    else:
        raise ValueError(f"unknown layer type {layer_type!r}")
    if residual:
        lines.append(residual_equation())
    return lines
