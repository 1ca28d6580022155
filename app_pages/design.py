"""Design: build the layer stack, pick the task, see shapes, parameters and equations."""

import streamlit as st

from components.design.code_export import code_export
from components.design.equations_panel import layer_equations
from components.design.layer_settings import layer_settings
from components.design.layer_stack import layer_stack
from components.design.stack_edit import stack_view
from components.design.summary import model_summary
from components.design.task_picker import task_picker, task_preview
from components.design.welcome import welcome
from components.shell.links import current_link
from components.shell.sidebar import sidebar
from components.shell.state import (
    apply_stack_event,
    get_experiment,
    history,
    layer_errors,
    redo,
    selected_layer,
    show_notices,
    show_url_warning,
    undo,
)
from components.shell.timing import mark
from components.shell.uploads import ask_for_pending_upload
from designer import get_task
from designer.document.presets import matching_preset, preset_description, preset_title
from designer.i18n import _

exp = get_experiment()
task = get_task(exp.task)
current_link()  # the link's runs and uploads, if it has any
sidebar()
mark("sidebar")

st.title("Deep RNN Designer")
welcome()  # a first visit's way in
preset = matching_preset(exp)
if preset:
    st.markdown(
        _("**{title}** (a preset): {description}").format(
            title=preset_title(preset), description=preset_description(preset)
        )
    )
else:
    st.markdown(
        _("Your own **{n}-layer** network for **{task}**.").format(
            n=len(exp.model.layers), task=_(task.title)
        )
    )
st.caption(
    _(
        "Drag layers from the palette into the stack and drag cards to reorder them; drag a "
        "card's right edge to change its width; click a card to edit its settings. The presets "
        "in the sidebar load a whole design in one click. Layers are numbered from 0 at the "
        "bottom, everywhere in the app and on the command line, as in the exported PyTorch "
        "code (self.layers[0])."
    )
)
show_url_warning()
ask_for_pending_upload()  # a link whose CSV file was uploaded from another browser
show_notices()
mark("header")

stack_col, side_col = st.columns([11, 9], gap="large")
with stack_col:
    heading, buttons = st.columns([3, 2], vertical_alignment="bottom")
    heading.subheader(_("Layer stack"))
    with buttons.container(horizontal=True, horizontal_alignment="right"):
        st.button(_("Undo"), icon=":material/undo:", on_click=undo, disabled=not history().can_undo)
        st.button(_("Redo"), icon=":material/redo:", on_click=redo, disabled=not history().can_redo)
    layer_stack(stack_view(exp, task, layer_errors()), selected_layer(), apply_stack_event)
mark("layer_stack")
with side_col, st.container(border=True):
    layer_settings(exp, selected_layer())
mark("layer_settings")
with side_col:
    st.subheader(_("Summary"))
    model_summary(exp, task)
mark("summary")

st.subheader(_("Task"))
picker_col, preview_col = st.columns([1, 1], gap="large")
with picker_col:
    task_picker(exp)
with preview_col:
    task_preview(task, seed=exp.train.seed)
mark("task")

with st.expander(
    _("Equations of the layers in this stack"), expanded=True, icon=":material/function:"
):
    layer_equations(exp, task)
mark("equations")

# The code is written and drawn only while its section is open: closed, a rerun
# generates no code and sends none (opening or closing the section reruns the page).
with st.expander(
    _("Code: take this model home"), icon=":material/code:", key="code_open", on_change="rerun"
) as code_section:
    if code_section.open:
        code_export(exp, task)
mark("code")
