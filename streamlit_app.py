"""Deep RNN Designer: page configuration and navigation, nothing else."""

from pathlib import Path

import streamlit as st

# A local icon file: a material icon as favicon would be fetched from fonts.gstatic.com.
ICON = str(Path(__file__).parent / "components" / "icon.png")
st.set_page_config(page_title="Deep RNN Designer", page_icon=ICON, layout="wide")

# The pages live in app_pages/, not pages/: with a pages/ folder beside this file,
# Streamlit serves a link to a sub-page (say /train) in its older multipage mode,
# without this file, until some visitor has opened the main page since start-up.
pages = [
    st.Page("app_pages/design.py", title="Design", icon=":material/stacks:", default=True),
    st.Page("app_pages/graph.py", title="Graph", icon=":material/account_tree:"),
    st.Page("app_pages/train.py", title="Train", icon=":material/model_training:"),
    st.Page("app_pages/inspect.py", title="Inspect", icon=":material/troubleshoot:"),
]
st.navigation(pages).run()
