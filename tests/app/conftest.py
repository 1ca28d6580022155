"""What the AppTest tests share: the app opened on a page with an experiment in its
link, and the link's runs on the server. Every app a test opens has its training
processes stopped when the test ends."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from designer import Experiment
from designer.i18n import using
from tests.helpers import link_of

APP = str(Path(__file__).resolve().parents[2] / "streamlit_app.py")


@pytest.fixture
def app_on_page():
    """app_on_page(exp, page, lang=None, **query): the app with `exp` (and `lang`, and
    the other `query` parameters) in its link, switched to `page`."""
    apps = []

    def open_page(exp: Experiment, page: str, lang: str | None = None, **query: str) -> AppTest:
        at = AppTest.from_file(APP, default_timeout=90)
        if lang:
            at.query_params["lang"] = lang
        at.query_params["x"] = exp.to_url()
        for name, value in query.items():
            at.query_params[name] = value
        at.run()
        at.switch_page(page).run()
        assert not at.exception, at.exception
        apps.append(at)
        return at

    yield open_page
    for at in apps:  # never leave a training process behind
        link = link_of(at)
        for run in link.shown() if link is not None else []:
            run.stop(wait=5)


@pytest.fixture
def chinese_thread():
    """AppTest formats a widget's options and chosen value with the page's format_func
    in the test's own thread, where no session says the language: Chinese there too."""
    with using("zh"):
        yield
