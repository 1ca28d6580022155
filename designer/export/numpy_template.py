"""Adding problem: RNN 5, linear 4 gelu, forward and backward by hand.

The network of Deep RNN Designer written out in NumPy, forward and backward, as a
textbook writes a multi-layer network by hand: backpropagation for the dense layers,
backpropagation through time (BPTT) for the recurrent ones. The weights are the app's,
by the same names, so its gradients can be checked against PyTorch's autograd:

    W = load_weights("checkpoint.pt")
    pred, cache = forward(W, x)
    loss, dpred = loss_and_gradient(pred, y)
    grads = backward(W, cache, dpred)   # the same names as W: dL/dW
"""

# This file is the template of the exported NumPy version (designer.export.codegen.
# numpy_code): a real module that imports and runs as it is, for its small network.
# numpy_code copies it from its imports on, with the experiment's network in place of
# the settings block, after this docstring with the experiment's title in its first line.

import math

import numpy as np

IGNORE = -100  # a padded target, which the loss skips

# --- settings ---
VOCAB_SIZE = None  # token ids are fed as one-hot vectors of this size (None: features)
LAYERS = [  # bottom to top: (the kind of layer, its nonlinearity)
    ("rnn", "tanh"),  # layer 1: RNN 5, width 2 -> 5
    ("linear", "gelu"),  # layer 2: linear 4 gelu, width 5 -> 4
]
PER_STEP = False  # the read-out on the last step only
LOSS = "mse"  # "mse", "cross_entropy", or "bits": the cross-entropy in bits
# --- end of settings ---


def load_weights(path):
    """The weights of an app checkpoint as float64 NumPy arrays (torch only reads the file)."""
    import torch

    state = torch.load(path, weights_only=True)["state_dict"]
    return {name: value.double().numpy() for name, value in state.items()}


def erf(z):
    """The error function, element by element (NumPy has none of its own)."""
    return np.vectorize(math.erf)(z)


def activate(name, z):
    """The nonlinearity `name` of z, element by element."""
    if name == "tanh":
        return np.tanh(z)
    if name == "relu":
        return np.maximum(z, 0.0)
    if name == "sigmoid":
        return 1.0 / (1.0 + np.exp(-z))
    if name == "gelu":
        return 0.5 * z * (1.0 + erf(z / np.sqrt(2.0)))
    return z  # "none"


def slope(name, z, a):
    """The derivative of the nonlinearity `name` at z, where a = activate(name, z)."""
    if name == "tanh":
        return 1.0 - a**2
    if name == "relu":
        return (z > 0).astype(z.dtype)
    if name == "sigmoid":
        return a * (1.0 - a)
    if name == "gelu":
        cdf = 0.5 * (1.0 + erf(z / np.sqrt(2.0)))
        return cdf + z * np.exp(-0.5 * z**2) / np.sqrt(2.0 * np.pi)
    return np.ones_like(z)


def rnn_forward(W, name, h, act):
    """An RNN layer over the steps of h (B, T, in): h_t = f(W_ih x_t + b_ih + W_hh h_(t-1)
    + b_hh), from h_(-1) = 0. Returns its states (B, T, H) and what backward needs."""
    W_ih, W_hh = W[f"{name}.cell.weight_ih_l0"], W[f"{name}.cell.weight_hh_l0"]
    b = W[f"{name}.cell.bias_ih_l0"] + W[f"{name}.cell.bias_hh_l0"]
    B, T, _ = h.shape
    states = np.zeros((B, T + 1, W_hh.shape[0]))  # states[:, t + 1] is h_t
    drives = np.zeros((B, T, W_hh.shape[0]))  # what goes into f at each step
    for t in range(T):
        drives[:, t] = h[:, t] @ W_ih.T + states[:, t] @ W_hh.T + b
        states[:, t + 1] = activate(act, drives[:, t])
    return states[:, 1:], (h, drives, states)


def rnn_backward(W, name, saved, dh, act, grads):
    """Backpropagation through time. The gradient reaching h_t comes from the layer
    above (dh[:, t]) and from this layer's own next step (dh_next). Adds the layer's
    weights' gradients to `grads`; returns the gradient of its input."""
    inputs, drives, states = saved
    W_ih, W_hh = W[f"{name}.cell.weight_ih_l0"], W[f"{name}.cell.weight_hh_l0"]
    B, T, _ = inputs.shape
    dW_ih, dW_hh = np.zeros_like(W_ih), np.zeros_like(W_hh)
    db = np.zeros(W_hh.shape[0])
    dinputs = np.zeros_like(inputs)
    dh_next = np.zeros((B, W_hh.shape[0]))
    for t in reversed(range(T)):
        da = (dh[:, t] + dh_next) * slope(act, drives[:, t], states[:, t + 1])  # through f
        dW_ih += da.T @ inputs[:, t]
        dW_hh += da.T @ states[:, t]
        db += da.sum(axis=0)
        dinputs[:, t] = da @ W_ih
        dh_next = da @ W_hh  # to the step before
    grads[f"{name}.cell.weight_ih_l0"], grads[f"{name}.cell.weight_hh_l0"] = dW_ih, dW_hh
    grads[f"{name}.cell.bias_ih_l0"], grads[f"{name}.cell.bias_hh_l0"] = db, db.copy()
    return dinputs


def linear_forward(W, name, h, act):
    """A dense layer at every step: a = f(z), z = W h + b. Returns a and what backward
    needs."""
    z = h @ W[f"{name}.linear.weight"].T + W[f"{name}.linear.bias"]
    a = activate(act, z)
    return a, (h, z, a)


def linear_backward(W, name, saved, dh, act, grads):
    """dz = dL/da * f'(z); dW sums dz x h over the batch and the steps. Adds the layer's
    weights' gradients to `grads`; returns the gradient of its input."""
    inputs, z, a = saved
    dz = dh * slope(act, z, a)
    grads[f"{name}.linear.weight"] = np.einsum("btj,bti->ji", dz, inputs)
    grads[f"{name}.linear.bias"] = dz.sum(axis=(0, 1))
    return dz @ W[f"{name}.linear.weight"]


def forward(W, x):
    """The prediction for a batch, and what the backward pass needs of each layer."""
    h = np.eye(VOCAB_SIZE)[x] if VOCAB_SIZE else x  # (B, T, features)
    cache = []
    for i, (kind, act) in enumerate(LAYERS):
        layer = rnn_forward if kind == "rnn" else linear_forward
        h, saved = layer(W, f"layers.{i}", h, act)
        cache.append(saved)
    cache.append(h)  # what the read-out reads: at every step, or on the last step only
    scored = h if PER_STEP else h[:, -1]
    return scored @ W["head.weight"].T + W["head.bias"], cache


def loss_and_gradient(pred, y):
    """The loss, and its gradient with respect to the prediction."""
    if LOSS == "mse":
        diff = pred - y
        return np.mean(diff**2), 2.0 * diff / diff.size  # mean squared error
    # cross-entropy of the softmax, over the targets that are not padding; in bits
    # (divided by ln 2) for the character model, the unit of its metric and baseline
    unit = np.log(2) if LOSS == "bits" else 1.0
    logits = pred.reshape(-1, pred.shape[-1])
    targets = y.reshape(-1)
    keep = targets != IGNORE
    shifted = logits - logits.max(axis=1, keepdims=True)
    p = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
    rows = np.arange(len(targets))[keep]
    loss = -np.log(p[rows, targets[keep]]).mean() / unit
    dlogits = p.copy()
    dlogits[rows, targets[keep]] -= 1.0
    dlogits[~keep] = 0.0
    return loss, (dlogits / (keep.sum() * unit)).reshape(pred.shape)


def backward(W, cache, dpred):
    """dL/dW for every weight, from dL/dpred: the chain rule, from the top down."""
    grads = {}
    h = cache[-1]
    if PER_STEP:
        grads["head.weight"] = np.einsum("btj,bti->ji", dpred, h)
        grads["head.bias"] = dpred.sum(axis=(0, 1))
        dh = dpred @ W["head.weight"]
    else:
        grads["head.weight"] = dpred.T @ h[:, -1]
        grads["head.bias"] = dpred.sum(axis=0)
        dh = np.zeros_like(h)
        dh[:, -1] = dpred @ W["head.weight"]  # only the last step gets a gradient from the loss
    for i in reversed(range(len(LAYERS))):
        kind, act = LAYERS[i]
        layer = rnn_backward if kind == "rnn" else linear_backward
        dh = layer(W, f"layers.{i}", cache[i], dh, act, grads)
    return grads
