"""Graph: the network unrolled over time, coloured by what the probe saw."""

import streamlit as st

from components.graph.graph_sweep import show_sweep
from components.graph.node_details import parse_node_id, show_node_details
from components.inspect.probe_source import current_probe
from components.shell.links import current_link
from components.shell.state import get_experiment, show_url_warning
from designer import get_task
from designer.figures.graph import graph_figure
from designer.i18n import _
from designer.inside.graph import unroll, visible_steps

NODE = "graph_node"  # the clicked node's id (designer.inside.graph.node_id)

exp = get_experiment()
current_link()  # the link's runs (their probes colour the graph)
show_url_warning()  # a damaged link, or runs no longer kept, opened on this page
task = get_task(exp.task)
T = task.seq_len

st.title(_("Unrolled graph"))
if task.per_step:
    about = _(
        "{task}: every layer at every one of the {steps} time steps. Time runs to the right, "
        "depth upwards; the loss is scored at every step. Click a node for its details."
    )
else:
    about = _(
        "{task}: every layer at every one of the {steps} time steps. Time runs to the right, "
        "depth upwards; the loss is scored at the last step only. Click a node for its details."
    )
st.caption(about.format(task=_(task.title), steps=T))
COLOR_BY = {"type": _("layer type"), "hidden": "‖h_t‖", "gradient": _("‖dL/dh_t‖ (log)")}

c1, c2, c3 = st.columns([1, 1, 2])
columns = c1.slider(
    _("Time steps drawn"),
    2,
    min(T, 60),
    min(T, 24),
    key="graph_columns",
    help=_("Longer sequences show their first and last steps, with a gap between."),
)
color_by = c2.radio(
    _("Colour by"),
    ["type", "hidden", "gradient"],
    key="graph_color_by",
    format_func=COLOR_BY.get,
)
steps = visible_steps(T, columns)
highlight = c3.select_slider(_("Highlight time step"), steps, value=steps[-1], key="graph_t")
sweep = st.toggle(_("Play the forward and backward pass"), key="graph_sweep")

G = unroll(exp, task, steps=steps)
node = st.session_state.get(NODE)
if node and parse_node_id(node) not in G:  # the experiment changed under it
    del st.session_state[NODE]
    node = None
probed = sweep or color_by != "type" or node
result, source = current_probe(exp) if probed else (None, "")

graph_col, detail_col = st.columns([3, 2]) if node else (st.container(), None)
clicked = []
with graph_col:
    if sweep:
        show_sweep(exp, G, result, source)
    else:
        event = st.plotly_chart(
            graph_figure(G, result, color_by, highlight_t=highlight),
            on_select="rerun",
            selection_mode="points",
            key=f"graph_plot_{st.session_state.get('graph_resets', 0)}",
            width="stretch",
        )
        clicked = [p["customdata"] for p in event.selection.points if p.get("customdata")]
        if color_by != "type":
            st.caption(
                _(
                    "Values from a probe {source}: means over a fixed batch of {n} sequences."
                ).format(source=source, n=result.x.shape[0])
            )
if clicked and clicked[0] != node:
    st.session_state[NODE] = clicked[0]
    st.rerun()
if detail_col is not None:
    with detail_col:
        show_node_details(parse_node_id(node), exp, result, source)
        if st.button(_("Close details"), key="graph_close", icon=":material/close:"):
            del st.session_state[NODE]
            # a fresh chart: the old one would still report the clicked node as selected
            st.session_state["graph_resets"] = st.session_state.get("graph_resets", 0) + 1
            st.rerun()
