"""The engine's plotly figures: pure functions from engine data to go.Figure (for the
training curves, first a JSON chart description), never importing streamlit.

A new chart goes in the module named after what it is drawn from: a run's history
(curves), a probe (probes), a task (tasks) or the unrolled graph (graph), framed with
style.laid_out and coloured from style.

- graph: the unrolled network over time, coloured by type, ||h_t|| or ||dL/dh_t|| (Graph).
- curves: loss, metric and gradient norm over training steps (Train).
- probes: hidden states, gates, gradients through time and over training (Inspect).
- tasks: a sample of a task (Design, Train) and what the model does on it (Train).
- style: the shared frame (title, height, margins) and the colours.

The package imports none of its modules, so a page loads only what it draws.
"""
