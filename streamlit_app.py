"""Deep RNN Designer: the process's start-up settings, the web server (whose start-up
warms what the pages need) and the pages' configuration and navigation, nothing else."""

import os
from contextlib import suppress
from pathlib import Path


def app() -> None:
    import streamlit as st

    from components.shell import timing
    from components.shell.language import choose_language, language_switch
    from designer.i18n import _

    timing.begin()

    # A local icon file: a material icon as favicon would be fetched from fonts.gstatic.com.
    icon = str(Path(__file__).parent / "components" / "icon.png")
    st.set_page_config(page_title="Deep RNN Designer", page_icon=icon, layout="wide")
    choose_language()

    # The pages live in app_pages/, not pages/: with a pages/ folder beside this file,
    # Streamlit serves a link to a sub-page (say /train) in its older multipage mode,
    # without this file, until some visitor has opened the main page since start-up.
    pages = [
        st.Page("app_pages/design.py", title=_("Design"), icon=":material/stacks:", default=True),
        st.Page("app_pages/graph.py", title=_("Graph"), icon=":material/account_tree:"),
        st.Page("app_pages/train.py", title=_("Train"), icon=":material/model_training:"),
        st.Page("app_pages/inspect.py", title=_("Inspect"), icon=":material/troubleshoot:"),
        st.Page("app_pages/compare.py", title=_("Compare"), icon=":material/compare:"),
        st.Page("app_pages/lessons.py", title=_("Lessons"), icon=":material/school:"),
    ]
    from components.lessons.classroom import apply_style, classroom_mode

    if classroom_mode():  # one lesson for a class: nothing else is reachable
        apply_style()
        page = st.navigation(pages, position="hidden")
        if page is not pages[-1]:
            st.switch_page(pages[-1], query_params=st.query_params.to_dict())
        page.run()
        return
    language_switch()
    page = st.navigation(pages)
    timing.mark("shell")  # the page's own sections from here on
    completed = False
    try:
        page.run()
        completed = True
    finally:
        timing.end(page.url_path or "design", completed)


# The app serves many sessions from one process, and every page run is a thread that
# may call torch: OpenMP thread teams would multiply (and spin while idle) with each
# of them. So torch gets one thread per caller, set before any page imports torch.
for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(name, "1")

# Every page run is a thread, and glibc gives each thread that meets another in malloc an
# arena of its own (up to 8 per core), each keeping the memory it freed: the server's
# memory grew with the page runs it had served at once. Two arenas keep it bounded
# (docs/performance.md: the memory figures). The environment variable reaches
# the processes started from here (the forkserver, the runs); mallopt this process.
os.environ.setdefault("MALLOC_ARENA_MAX", "2")


def limit_malloc_arenas() -> None:
    """Apply MALLOC_ARENA_MAX to this process, already started (glibc only)."""
    import ctypes
    import ctypes.util

    M_ARENA_MAX = -8  # glibc's malloc.h
    with suppress(OSError, AttributeError, ValueError):
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt(M_ARENA_MAX, int(os.environ["MALLOC_ARENA_MAX"]))


# Streamlit runs this file as the main module for each page run; `streamlit run` first
# imports it by its own name to find `server`, the web server (its start-up warms the
# imports: components/shell/startup.py); and every training process that
# multiprocessing starts imports it again (as "__mp_main__"): there it does nothing.
if __name__ == "__main__":
    app()
elif __name__ != "__mp_main__":
    import streamlit as st

    limit_malloc_arenas()

    from components.shell.startup import ROUTES, lifespan

    server = st.App(__file__, lifespan=lifespan, routes=ROUTES)
