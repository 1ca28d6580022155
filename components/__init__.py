"""Streamlit UI pieces shared by the pages (see streamlit_app.py for the process's
start-up settings)."""
