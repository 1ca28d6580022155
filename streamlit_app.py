"""Deep RNN Designer: page configuration and navigation, nothing else."""

import streamlit as st

st.set_page_config(page_title="Deep RNN Designer", page_icon=":material/stacks:", layout="wide")

pages = [
    st.Page("pages/design.py", title="Design", icon=":material/stacks:", default=True),
]
st.navigation(pages).run()
