"""The credit matrix against finite differences of the loss in float64, the three
gradient paths against the total, and the what-if edits against hand-made models.

The finite differences use a forward of their own: PyTorch's nn.*Cell modules,
stepped by hand with the fused layers' weights, with a nudge added to one state."""

import math
import re

import pytest
import torch
import torch.nn as nn

from designer import Experiment, build_model, get_task
from designer.inside import credit
from designer.inside.credit import credit_matrix, credit_rows, gradient_paths
from designer.inside.probes import PROBE_SEED, Edit, probe
from designer.inside.whatif import EditError, check_edit, evaluate, what_if
from designer.training.model import Recurrent
from designer.training.trainer import VAL_BATCH, VAL_SEED_OFFSET
from tests.helpers import experiment_doc, layer_doc
from tests.unit.test_probes import reference_cell

CAUSAL = {
    "task": {"name": "sine", "seq_len": 6},
    "model": {
        "layers": [
            {"type": "lstm", "hidden_size": 3},
            {"type": "rnn", "hidden_size": 3, "residual": True},
            {"type": "gru", "hidden_size": 4, "residual": True},
        ]
    },
}
MIXED = experiment_doc(
    "sine", 6,
    layer_doc("gru", 4, bidirectional=True), layer_doc("lstm", 3, residual=True),
    layer_doc("linear", out_features=3, activation="tanh"), layer_doc("rnn", 3, residual=True),
)  # fmt: skip


def mixed_model(document=MIXED):
    exp = Experiment.from_dict(document)
    task = get_task(exp.task)
    return build_model(exp, task).double().eval(), task


def nudged_predictions(model, x, nudge):
    """The model's per-step predictions (B, T, out), in float64, with `nudge` =
    (layer index, direction, k, sample, unit, delta) added to that h_k."""
    h = model.encode(x).double()
    for index, layer in enumerate(model.layers):
        if not isinstance(layer, Recurrent):
            h = layer(h)
            continue
        B, T, _ = h.shape
        outs = []
        for reverse in (False, True)[: 1 + layer.cell.bidirectional]:
            cell = reference_cell(layer.cell, reverse).double()
            state = h.new_zeros(B, layer.cell.hidden_size)
            memory = h.new_zeros(B, layer.cell.hidden_size)
            states = [None] * T
            for t in range(T - 1, -1, -1) if reverse else range(T):
                if isinstance(cell, nn.LSTMCell):
                    state, memory = cell(h[:, t], (state, memory))
                else:
                    state = cell(h[:, t], state)
                where, direction, k, b, unit, delta = nudge
                if (where, direction, k) == (index, int(reverse), t):
                    state = state.clone()
                    state[b, unit] += delta
                states[t] = state
            outs.append(torch.stack(states, 1))
        out = torch.cat(outs, -1)
        h = out + layer.skip(h) if layer.skip is not None else out
    return model.head(h)


@pytest.mark.parametrize(
    "document, elements",
    [(MIXED, credit.CREDIT_ELEMENTS), (CAUSAL, 1), (CAUSAL, 200)],
    ids=["bidirectional, all rows in one pass", "causal, a row a pass", "causal, 2-row passes"],
)
def test_credit_matrix_matches_finite_differences_in_float64(document, elements, monkeypatch):
    """Passes of one or more rows, stopped at the last row where the stack is causal."""
    monkeypatch.setattr(credit, "CREDIT_ELEMENTS", elements)
    model, task = mixed_model(document)
    B = 2
    result = credit_matrix(model, task, seed=1, batch_size=B)
    x, y = task.batch(B, PROBE_SEED + 1, split="val")
    base = nudged_predictions(model, x, (None, 0, 0, 0, 0, 0.0))

    def loss_at(pred_nudged, t):
        """L_t: the loss with only step t's prediction taken from the nudged run."""
        mixed = base.clone()
        mixed[:, t] = pred_nudged[:, t]
        return task.loss(mixed, y.double()).item()

    eps = 1e-6
    T = task.seq_len
    assert result.rows == list(range(T))
    assert [layer.index for layer in result.layers] == [
        i for i, layer in enumerate(model.layers) if isinstance(layer, Recurrent)
    ]
    for layer in result.layers:
        module = model.layers[layer.index]
        H, D = module.cell.hidden_size, 1 + module.cell.bidirectional
        for k in range(T):
            # per sample: the gradient of every L_t with respect to its own h_k
            grads = torch.zeros(T, B, D * H, dtype=torch.float64)
            for d in range(D):
                for b in range(B):
                    for unit in range(H):
                        up = nudged_predictions(model, x, (layer.index, d, k, b, unit, eps))
                        down = nudged_predictions(model, x, (layer.index, d, k, b, unit, -eps))
                        for t in range(T):
                            grads[t, b, d * H + unit] = (loss_at(up, t) - loss_at(down, t)) / (
                                2 * eps
                            )
            expected = grads.norm(dim=2).mean(dim=1)  # (T,) over loss steps t
            for t in range(T):
                assert layer.matrix[t][k] == pytest.approx(float(expected[t]), rel=1e-6, abs=1e-12)
    # causal layers: a state cannot change an earlier prediction; a bidirectional one can
    upper = [result.layers[-1].matrix[t][k] for t in range(T) for k in range(t + 1, T)]
    assert upper and all(v == 0.0 for v in upper)
    assert any(result.layers[0].matrix[0][k] > 0 for k in range(1, T)) == (document is MIXED)


def test_a_last_step_task_has_one_row_equal_to_the_probe():
    exp = Experiment.from_dict(
        {
            "task": {"name": "adding", "seq_len": 9},
            "model": {
                "layers": [{"type": "lstm", "hidden_size": 5}, {"type": "gru", "hidden_size": 4}]
            },
        }
    )
    task = get_task(exp.task)
    model = build_model(exp, task)
    result = credit_matrix(model, task, seed=2, batch_size=4)
    probed = probe(model, task, seed=2, batch_size=4)
    assert result.rows == [8] and not result.per_step
    for entry, layer in zip(result.layers, probed.layers, strict=True):
        assert entry.matrix[8] == pytest.approx(layer.grad_norm, rel=1e-5)
        assert all(row is None for row in entry.matrix[:8])  # no loss before the last step


def test_long_sequences_get_evenly_spaced_rows_ending_at_the_last():
    rows = credit_rows(500, per_step=True, max_rows=64)
    assert len(rows) == 64 and rows[0] == 0 and rows[-1] == 499
    assert credit_rows(10, per_step=True) == list(range(10))
    assert credit_rows(10, per_step=False) == [9]
    exp = Experiment.from_dict(
        {
            "task": {"name": "sine", "seq_len": 12},
            "model": {"layers": [{"type": "rnn", "hidden_size": 3}]},
        }
    )
    task = get_task(exp.task)
    result = credit_matrix(build_model(exp, task), task, batch_size=2, max_rows=4)
    assert result.rows == credit_rows(12, True, 4)
    matrix = result.layers[0].matrix
    assert [t for t in range(12) if matrix[t] is not None] == result.rows


def test_only_scored_steps_get_rows_and_a_pass_is_sized_by_all_it_keeps():
    """The copy task scores its last steps only: the rows are those. Attention's T x T
    weights count in the size of a pass."""
    exp = Experiment.from_dict(
        {
            "task": {"name": "copy", "symbols": 5, "lag": 20},
            "model": {"layers": [{"type": "gru", "hidden_size": 4}]},
        }
    )
    task = get_task(exp.task)
    result = credit_matrix(build_model(exp, task), task, batch_size=2, max_rows=5)
    _, y = task.batch(2, PROBE_SEED, split="val")
    scored = credit.scored_steps(y, per_step=True)
    T = task.seq_len
    assert scored and scored[0] > 0 and result.rows[-1] == T - 1
    assert set(result.rows) <= set(scored) and len(result.rows) == min(5, len(scored))
    matrix = result.layers[0].matrix
    assert all(matrix[t] is None for t in range(T) if t not in result.rows)
    plain = Experiment.from_dict(
        {"task": {"name": "sine", "seq_len": 400}, "model": {"layers": [{"type": "rnn"}]}}
    )
    attending = Experiment.from_dict(
        {
            "task": {"name": "sine", "seq_len": 400},
            "model": {"layers": [{"type": "rnn"}] + [{"type": "attention"}] * 3},
        }
    )
    sine = get_task(plain.task)
    many = credit.rows_per_pass(build_model(plain, sine), 8, 400)
    few = credit.rows_per_pass(build_model(attending, sine), 8, 400)
    assert few == 1 < many


def test_the_three_paths_add_up_to_the_total_gradient():
    model, task = mixed_model()
    paths = gradient_paths(model, task, seed=0, batch_size=3)
    probed = probe(model, task, seed=0, batch_size=3)
    assert [p.index for p in paths] == [0, 1, 3]
    for layer, reference in zip(paths, probed.layers, strict=True):
        torch.testing.assert_close(layer.total, reference.grad_hidden)
        summed = layer.paths["time"] + layer.paths["up"] + layer.paths["skip"]
        torch.testing.assert_close(summed, layer.total, rtol=1e-10, atol=1e-14)
        shares = layer.shares()
        for k in range(task.seq_len):
            assert sum(shares[name][k] for name in shares) == pytest.approx(1.0, abs=1e-9)
    by_index = {p.index: p for p in paths}
    # the GRU sits under a residual LSTM: some of its gradient goes around it
    assert by_index[0].residual_above and by_index[0].paths["skip"].abs().max() > 0
    # the LSTM sits under a plain linear layer: nothing goes around
    assert not by_index[1].residual_above and by_index[1].paths["skip"].abs().max() == 0
    # the top layer's last step has no next step: all of it comes from above
    assert by_index[3].paths["time"][0, -1].abs().max() == 0
    assert by_index[3].above == "the output head"
    # a bidirectional layer's backward direction carries time from t+1 to t: its
    # first step (t = 0) has no step after it in its own order
    assert by_index[0].paths["time"][1, 0].abs().max() == 0
    assert by_index[0].paths["time"][1, 1].abs().max() > 0


def test_a_deep_plain_rnn_stack_gets_its_gradient_through_time_and_depth():
    exp = Experiment.from_dict(
        {
            "task": {"name": "sine", "seq_len": 20},
            "model": {"layers": [{"type": "rnn", "hidden_size": 8}] * 3},
        }
    )
    task = get_task(exp.task)
    paths = gradient_paths(build_model(exp, task), task, batch_size=4)
    for layer in paths:
        norms = layer.norms()
        assert set(norms) == {"total", "time", "up", "skip"}
        assert all(math.isfinite(v) for v in norms["total"])
        assert max(norms["skip"]) == 0.0


# --- what-if -----------------------------------------------------------------------------
def whatif_model(layers, task="sine", seq_len=8):
    document = {"task": {"name": task, "seq_len": seq_len}, "model": {"layers": layers}}
    exp = Experiment.from_dict(document)
    task = get_task(exp.task)
    return build_model(exp, task), task


def test_silencing_a_whole_layer_zeroes_its_states_and_what_it_passes_on():
    layers = [{"type": "lstm", "hidden_size": 5}, {"type": "gru", "hidden_size": 4}]
    model, task = whatif_model(layers)
    edited = probe(model, task, batch_size=3, edits=(Edit(layer=0),))
    assert edited.layers[0].hidden.abs().max() == 0
    # the layer above sees zeros: its states are those of a GRU fed nothing but zeros
    gru = model.layers[1].cell
    zeros = torch.zeros(3, task.seq_len, 5)
    expected, _ = gru(zeros)
    torch.testing.assert_close(edited.layers[1].hidden[0].transpose(0, 1), expected)


def test_silenced_units_stay_silent_and_the_others_feel_it_through_the_recurrence():
    model, task = whatif_model([{"type": "rnn", "hidden_size": 6, "bidirectional": True}])
    plain = probe(model, task, batch_size=2)
    edited = probe(model, task, batch_size=2, edits=(Edit(layer=0, units=(1, 7)),))
    h = edited.layers[0].hidden  # (D, T, B, H): unit 7 is the backward direction's unit 1
    assert h[0, :, :, 1].abs().max() == 0 and h[1, :, :, 1].abs().max() == 0
    assert h[0, :, :, 0].abs().max() > 0
    # unit 0 at step 0 sees no earlier state; from step 1 on it reads the silenced unit
    torch.testing.assert_close(h[0, 0, :, 0], plain.layers[0].hidden[0, 0, :, 0])
    assert not torch.allclose(h[0, 1:, :, 0], plain.layers[0].hidden[0, 1:, :, 0])


def test_a_forget_gate_held_at_one_keeps_the_cell_state_as_a_running_sum():
    model, task = whatif_model([{"type": "lstm", "hidden_size": 4}])
    edited = probe(model, task, batch_size=2, edits=(Edit(layer=0, gate="forget", value=1.0),))
    layer = edited.layers[0]
    assert torch.all(layer.gates["forget"] == 1.0)
    c, i, g = layer.cell[0], layer.gates["input"][0], layer.gates["cell"][0]
    torch.testing.assert_close(c, torch.cumsum(i * g, dim=0))  # c_t = c_(t-1) + i_t g_t


def test_what_if_reports_the_metric_with_and_without_and_leaves_the_weights():
    model, task = whatif_model([{"type": "lstm", "hidden_size": 8}], task="adding", seq_len=10)
    weights = {k: v.clone() for k, v in model.state_dict().items()}
    result = what_if(model, task, (Edit(layer=0),))
    with torch.no_grad():
        x, y = task.batch(VAL_BATCH, VAL_SEED_OFFSET + 0, split="val")
        assert result.before.loss == pytest.approx(float(task.loss(model(x), y)), rel=1e-5)
        # nothing reaches the head but its bias: the prediction is a constant
        constant = model.head.bias.expand(len(x), -1)
        assert result.after.loss == pytest.approx(float(task.loss(constant, y)), rel=1e-5)
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in weights.items())
    assert result.probe.layers[0].hidden.abs().max() == 0


@pytest.mark.parametrize(
    "edit, words",
    [
        (Edit(layer=1), "layer 1 is not a recurrent layer"),
        (Edit(layer=7), "layer 7 is not a recurrent layer"),
        (Edit(layer=0, units=(12,)), "layer 0 has units 0 to 11, not 12"),
        (Edit(layer=0, units=()), "choose at least one unit"),
        (Edit(layer=0, gate="reset"), "layer 0 (lstm) has no reset gate (its gates: input, forget"),
        (Edit(layer=2, gate="update"), "layer 2 (rnn) has no update gate (its gates: none)"),
        (
            Edit(layer=0, gate="forget", value=1.5),
            "the forget gate takes values from 0 to 1, not 1.5",
        ),
        (Edit(layer=0, gate="cell", value=-2), "the cell gate takes values from -1 to 1, not -2"),
    ],
)
def test_an_edit_that_does_not_fit_is_refused_with_a_sentence(edit, words):
    model, task = whatif_model(
        [
            {"type": "lstm", "hidden_size": 6, "bidirectional": True},
            {"type": "layernorm"},
            {"type": "rnn", "hidden_size": 3},
        ]
    )
    with pytest.raises(EditError, match=re.escape(words)):
        check_edit(model, edit)
    with pytest.raises(EditError):
        evaluate(model, task, (edit,))


def test_two_holds_of_one_gate_on_different_units_both_take_effect():
    model, task = whatif_model([{"type": "lstm", "hidden_size": 4}])
    edits = (
        Edit(layer=0, units=(0, 1), gate="forget", value=1.0),
        Edit(layer=0, units=(2, 3), gate="forget", value=0.0),
    )
    forget = probe(model, task, batch_size=2, edits=edits).layers[0].gates["forget"][0]
    assert torch.all(forget[:, :, :2] == 1.0) and torch.all(forget[:, :, 2:] == 0.0)


def test_what_if_runs_a_float64_model_in_chunks_as_the_whole_batch_would():
    model, task = whatif_model([{"type": "gru", "hidden_size": 5}], task="sine", seq_len=12)
    model = model.double()
    whole = evaluate(model, task, (Edit(layer=0, units=(1,)),))
    from designer.inside import whatif

    saved = whatif.EVALUATE_ELEMENTS
    whatif.EVALUATE_ELEMENTS = 1  # one sequence at a time
    try:
        chunked = evaluate(model, task, (Edit(layer=0, units=(1,)),))
    finally:
        whatif.EVALUATE_ELEMENTS = saved
    assert chunked.loss == pytest.approx(whole.loss, rel=1e-12)
    assert evaluate(model, task).loss != whole.loss
