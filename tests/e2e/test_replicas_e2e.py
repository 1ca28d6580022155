"""In Chromium, the app served by two replicas behind nginx, with Redis and Ray
(tests/e2e/replicas.py): the proxy carries the page's WebSocket and keeps each browser
on one replica; a run trained through one replica is shown live through the other; a
lesson opened on both trains its runs once; a replica killed mid-run sends its browser
to the other, where the run (training on Ray) is still shown; a restarted Redis still
has every finished run."""

from __future__ import annotations

import re
import time

import pytest
from test_hosting_e2e import SMALL, query, step_metric, train_to_the_end
from test_lesson_e2e import VERDICT

from deploy.render_nginx import COOKIE
from designer import Experiment
from designer.lessons import LESSONS
from tests.e2e.replicas import topology

pytestmark = [pytest.mark.e2e, pytest.mark.services]

LONG = Experiment.from_dict({**SMALL, "train": {**SMALL["train"], "steps": 20_000}})


@pytest.fixture(scope="module")
def site():
    """Redis, a Ray head, replicas "a" and "b" and nginx, started once for the module."""
    with topology() as running:
        yield running


def pinned(new_tab, site, replica: str):
    """A browser whose cookie keeps it on `replica`, set before its first page load."""
    return new_tab(cookies=[{"name": COOKIE, "value": replica, "url": site.proxy}])


def cookie(tab) -> str | None:
    """The replica the proxy's cookie keeps this browser on."""
    return {c["name"]: c["value"] for c in tab.context.cookies()}.get(COOKIE)


def served(response) -> str:
    return response.headers["x-served-by"]


def grows(tab, seconds: float = 30) -> bool:
    """The run's step count goes up while the page polls it by itself."""
    first = step_metric(tab)
    deadline = time.monotonic() + seconds
    while step_metric(tab) <= first and time.monotonic() < deadline:
        tab.wait_for_timeout(500)
    return step_metric(tab) > first


def start_long_run(tab, site) -> dict[str, str]:
    """Start a long run on the Train page; its link (with `r=`) once it trains."""
    tab.goto(f"{site.proxy}/train?x={LONG.to_url()}")
    tab.wait_for_app()
    tab.locator(".st-key-train_start button").click()
    tab.get_by_text("Training", exact=True).wait_for(timeout=30_000)
    tab.wait_for_app()
    assert "r" in query(tab)
    return query(tab)


def test_the_proxy_carries_the_app_and_keeps_each_browser_on_its_replica(site, new_tab):
    tab = new_tab()
    sockets = []
    tab.on("websocket", lambda socket: sockets.append(socket.url))
    home = served(tab.goto(site.proxy + "/"))
    tab.wait_for_app()
    assert home in site.replicas
    assert sockets and all(url.startswith(site.proxy.replace("http", "ws")) for url in sockets)
    assert cookie(tab) == home
    # the live WebSocket: a click in the page runs the next page's script
    tab.locator('[data-testid="stSidebarNav"] a', has_text="Train").click()
    tab.wait_for_app()
    tab.get_by_text("Press Start").first.wait_for()
    for _ in range(3):
        assert served(tab.reload()) == home
        tab.wait_for_app()

    other = next(name for name in site.replicas if name != home)
    elsewhere = pinned(new_tab, site, other)
    assert served(elsewhere.goto(site.proxy + "/train")) == other
    elsewhere.wait_for_app()
    elsewhere.get_by_text("Press Start").first.wait_for()
    assert tab.external_requests == [] and elsewhere.external_requests == []


def test_a_run_trained_through_one_replica_is_shown_live_through_the_other(site, new_tab):
    trainer = pinned(new_tab, site, "a")
    link = start_long_run(trainer, site)
    viewer = pinned(new_tab, site, "b")
    assert served(viewer.goto(f"{site.proxy}/train?x={link['x']}&r={link['r']}")) == "b"
    viewer.wait_for_app()
    viewer.get_by_text("Training", exact=True).wait_for(timeout=30_000)
    assert grows(viewer)
    trainer.locator(".st-key-train_stop button").click()
    trainer.get_by_text("Stopped").first.wait_for(timeout=30_000)
    viewer.get_by_text("Stopped").first.wait_for(timeout=30_000)


def shared_claims(site) -> set[str]:
    """The lesson runs claimed for training, deployment-wide (`drd:shared:<run key>`, set
    with NX by the one replica that trains it; its `:progress` records left out)."""
    import redis

    client = redis.Redis.from_url(site.redis.url, socket_timeout=5)
    keys = {key.decode() for key in client.scan_iter("drd:shared:*")}
    return {key for key in keys if not key.endswith(":progress")}


def test_a_lesson_opened_on_both_replicas_trains_its_runs_once(site, new_tab):
    before = shared_claims(site)
    students = [pinned(new_tab, site, name) for name in ("a", "b")]
    for student in students:
        student.goto(f"{site.proxy}/lessons?lesson=why-gates")
        student.wait_for_app()
        student.get_by_text("Predict first.").wait_for()
        student.get_by_text("the LSTM", exact=True).click()
        # The first presses Train once the prediction is made; the second finds the
        # runs there already (claimed through the other replica) or presses Train too:
        # either way identical runs are shared, not trained twice
        live = student.locator(".st-key-lesson_loss_live")
        train = student.locator(".st-key-lesson_train button:not([disabled])")
        live.or_(train).first.wait_for(timeout=60_000)
        if not live.count():
            train.last.click()
        live.wait_for(timeout=60_000)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and not all(s.locator(VERDICT).count() for s in students):
        time.sleep(1)
    for student in students:
        student.locator(VERDICT).wait_for(timeout=10_000)
    claimed = shared_claims(site) - before
    assert len(claimed) == len(LESSONS["why-gates"].runs), claimed  # each run trained once


def test_a_killed_replica_sends_its_browser_to_the_other_where_the_run_goes_on(site, new_tab):
    tab = pinned(new_tab, site, "a")
    link = start_long_run(tab, site)
    # Streamlit's page reconnects by itself, with a new WebSocket; the proxy sends it on
    # to "b", which draws the page again from the link
    with tab.expect_websocket(timeout=60_000):
        site.kill("a")
    deadline = time.monotonic() + 30
    while cookie(tab) != "b" and time.monotonic() < deadline:
        tab.wait_for_timeout(200)
    assert cookie(tab) == "b"  # the new WebSocket's answer came from "b"
    tab.wait_for_app(timeout=60_000)
    tab.get_by_text("Training", exact=True).wait_for(timeout=30_000)
    assert query(tab)["r"] == link["r"]
    assert grows(tab)
    assert served(tab.reload()) == "b"
    tab.wait_for_app()
    tab.get_by_text("Training", exact=True).wait_for(timeout=30_000)
    tab.locator(".st-key-train_stop button").click()
    tab.get_by_text("Stopped").first.wait_for(timeout=30_000)


def test_a_restarted_redis_still_has_every_finished_run(site, new_tab):
    links = []
    for seed in (1, 2):
        exp = Experiment.from_dict({**SMALL, "train": {**SMALL["train"], "seed": seed}})
        tab = new_tab()
        tab.goto(f"{site.proxy}/train?x={exp.to_url()}")
        tab.wait_for_app()
        train_to_the_end(tab)
        links.append(query(tab))
    site.redis.restart()
    for link in links:
        tab = new_tab()
        tab.goto(f"{site.proxy}/train?x={link['x']}&r={link['r']}")
        tab.wait_for_app()
        tab.get_by_text(re.compile("^Finished")).first.wait_for(timeout=30_000)
        assert step_metric(tab) == 80
