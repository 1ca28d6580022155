"""In Chromium, a served app as a class meets it: a crafted link cannot read the
server's files; a visitor's own CSV file trains, and its link reproduces it; a
reload keeps the run; a closed tab ends its training; a restarted server still
shows the link's finished runs and says the one in progress was lost; a fresh server
says it is ready only once its start-up has loaded what the pages need."""

from __future__ import annotations

import base64
import json
import os
import re
import time
import urllib.request
import zlib
from urllib.parse import parse_qs, urlparse

import pytest

from bench.served import READY, process_tree, served_app, server_pid
from designer import Experiment

pytestmark = pytest.mark.e2e

SMALL = {
    "task": {"name": "adding", "seq_len": 12},
    "model": {"layers": [{"type": "gru", "hidden_size": 8}]},
    "train": {"steps": 80, "batch_size": 16, "eval_every": 20, "probe_every": 20},
}


def token(document: dict) -> str:
    """A link's experiment token, made without checking the document (as a crafted
    link would be)."""
    raw = json.dumps(document).encode()
    return base64.urlsafe_b64encode(zlib.compress(raw, 9)).decode().rstrip("=")


def query(page) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlparse(page.url).query).items()}


def step_metric(page) -> int:
    box = page.locator('[data-testid="stMetric"]', has_text=re.compile(r"Step \(of")).first
    return int(box.locator('[data-testid="stMetricValue"]').inner_text().replace(",", ""))


def csv_text(rows: int, seed: int = 0) -> str:
    lines = ["day,temp,rain"]
    for i in range(rows):
        lines.append(f"{i},{20 + 5 * ((i * 7 + seed) % 11) / 11:.3f},{(i * 13 + seed) % 5}")
    return "\n".join(lines) + "\n"


def train_to_the_end(page) -> None:
    page.locator(".st-key-train_start button").click()
    page.get_by_text(re.compile("^Finished")).first.wait_for(timeout=60_000)
    page.wait_for_selector(READY)


def test_a_link_naming_a_server_file_shows_a_refusal_and_none_of_it(page, app_url, tmp_path):
    secret = tmp_path / "secret.csv"
    secret.write_text("name,value\ntop-secret-row,1\n" + "x,2\n" * 300)
    crafted = {"version": 1, "task": {"name": "csv", "path": str(secret)}}
    for where in ("", "/train"):
        page.goto(f"{app_url}{where}?x={token(crafted)}")
        page.wait_for_app()
        page.get_by_text("could not be opened").first.wait_for()
        body = page.locator("body").inner_text()
        assert "reads no files by path" in body
        assert "top-secret-row" not in body and "value" not in body.split("could not")[0]
    assert page.external_requests == []


def test_an_uploaded_csv_trains_and_its_link_reproduces_it(page, browser, app_url, tmp_path):
    document = {"version": 1, "task": {"name": "csv", "seq_len": 60}, "train": SMALL["train"]}
    page.goto(f"{app_url}/?x={token(document)}")
    page.wait_for_app()
    page.get_by_text("the shipped example").first.wait_for()
    data = tmp_path / "weather.csv"
    data.write_text(csv_text(120))
    page.locator(".st-key-csv_upload_0 input[type=file]").set_input_files(str(data))
    # too few rows for windows of 60 steps: a plain message, and nothing changes
    page.get_by_text("seq_len 60 needs at least").first.wait_for(timeout=20_000)
    page.locator(".st-key-task_csv_seq_len input").fill("10")
    page.locator(".st-key-task_csv_seq_len input").press("Enter")
    page.get_by_text("(B, 10, 3)").first.wait_for()  # the summary follows the new length
    page.wait_for_app()
    page.locator(".st-key-csv_upload_1 input[type=file]").set_input_files(str(data))
    page.get_by_text("It travels inside the link").first.wait_for(timeout=20_000)
    page.wait_for_app()
    assert Experiment.from_url(query(page)["x"]).task.params["data"].startswith("day,temp,rain")
    page.get_by_text("120 rows").first.wait_for()

    page.locator('[data-testid="stSidebarNav"] a', has_text="Train").click()
    page.wait_for_app()
    train_to_the_end(page)
    assert step_metric(page) == 80

    # the link alone (no runs id) opens the same data in another browser
    other = browser.new_context().new_page()
    other.goto(f"{app_url}/?x={query(page)['x']}")
    other.get_by_text("120 rows").first.wait_for(timeout=30_000)
    other.get_by_text("the CSV text below").first.wait_for()
    other.context.close()


def test_a_large_csv_stays_on_the_server_and_elsewhere_the_link_asks_for_it(
    page, browser, app_url, tmp_path
):
    page.goto(f"{app_url}/?x={token({'version': 1, 'task': {'name': 'csv'}})}")
    page.wait_for_app()
    big = tmp_path / "big.csv"
    big.write_text(csv_text(3000))
    page.locator(".st-key-csv_upload_0 input[type=file]").set_input_files(str(big))
    page.get_by_text("kept on this server").first.wait_for(timeout=20_000)
    page.wait_for_app()
    link = query(page)
    assert "r" in link and Experiment.from_url(link["x"]).task.params["upload_name"] == "big.csv"
    page.get_by_text("3,000 rows").first.wait_for()

    # the same link in a browser that has not uploaded it: it asks for the file
    other = browser.new_context().new_page()
    other.goto(f"{app_url}/?x={link['x']}")
    other.get_by_text("Upload that file to open the experiment").first.wait_for(timeout=30_000)
    wrong = tmp_path / "other.csv"
    wrong.write_text(csv_text(3000, seed=1))
    uploader = ".st-key-pending_upload_{} input[type=file]"
    other.locator(uploader.format(0)).set_input_files(str(wrong))
    other.get_by_text("is not the file this link was made with").first.wait_for(timeout=20_000)
    other.locator(uploader.format(1)).set_input_files(str(big))
    other.get_by_text("3,000 rows").first.wait_for(timeout=30_000)
    other.context.close()


def test_a_reload_keeps_the_run_and_another_browser_does_not_see_it(page, browser, app_url):
    exp = Experiment.from_dict(SMALL)
    page.goto(f"{app_url}/train?x={exp.to_url()}")
    page.wait_for_app()
    train_to_the_end(page)
    assert "r" in query(page)

    page.reload()
    page.wait_for_app()
    page.get_by_text(re.compile("^Finished")).first.wait_for(timeout=30_000)
    assert step_metric(page) == 80
    page.locator(".js-plotly-plot").nth(2).wait_for()  # the curves are drawn again
    page.locator('[data-testid="stSidebarNav"] a', has_text="Inspect").click()
    page.wait_for_app()
    page.get_by_text("probes recorded while training").first.wait_for(timeout=30_000)

    stranger = browser.new_context().new_page()
    stranger.goto(f"{app_url}/train?x={exp.to_url()}")
    stranger.wait_for_selector(READY)
    stranger.get_by_text("Press Start").first.wait_for()
    assert stranger.locator('[data-testid="stMetric"]').count() == 0
    stranger.context.close()


def test_a_reload_during_training_follows_the_run_still_training(page, app_url):
    exp = Experiment.from_dict({**SMALL, "train": {**SMALL["train"], "steps": 20_000}})
    page.goto(f"{app_url}/train?x={exp.to_url()}")
    page.wait_for_app()
    page.locator(".st-key-train_start button").click()
    page.get_by_text("Training", exact=True).wait_for(timeout=30_000)
    page.reload()
    page.wait_for_app()
    page.get_by_text("Training", exact=True).wait_for(timeout=30_000)
    first = step_metric(page)
    deadline = time.monotonic() + 30
    while step_metric(page) <= first and time.monotonic() < deadline:
        page.wait_for_timeout(500)  # the page polls the run by itself
    assert step_metric(page) > first
    page.locator(".st-key-train_stop button").click()
    page.get_by_text("Stopped").first.wait_for(timeout=30_000)


def training_processes(server: int) -> set[int]:
    return set(process_tree(server, min_depth=2))


def test_closing_the_tab_ends_its_training_within_seconds(browser, app_url):
    exp = Experiment.from_dict({**SMALL, "train": {**SMALL["train"], "steps": 20_000}})
    server = server_pid(app_url)
    before = training_processes(server)
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{app_url}/train?x={exp.to_url()}")
    page.locator(".st-key-train_start button").click()
    page.get_by_text("Training", exact=True).wait_for(timeout=30_000)
    training = training_processes(server) - before
    assert training, "a training process runs"
    context.close()
    deadline = time.monotonic() + 40  # the grace period for a reload (15 s), then the stop
    while training_processes(server) & training and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not training_processes(server) & training


def test_a_restarted_server_restores_finished_runs_and_reports_the_lost_one(browser, tmp_path):
    env = {"DESIGNER_STORE_DIR": str(tmp_path / "store")}
    exp = Experiment.from_dict(SMALL)
    long = Experiment.from_dict({**SMALL, "train": {**SMALL["train"], "steps": 20_000}})
    with served_app(env=env) as url:
        page = browser.new_context().new_page()
        page.goto(f"{url}/train?x={exp.to_url()}")
        page.wait_for_selector(READY)
        train_to_the_end(page)
        runs = query(page)["r"]
        page.goto(f"{url}/train?x={long.to_url()}&r={runs}")
        page.locator(".st-key-train_start button").click()
        page.get_by_text("Training", exact=True).wait_for(timeout=30_000)
        page.context.close()
    with served_app(env=env) as url:
        page = browser.new_context().new_page()
        page.goto(f"{url}/train?x={exp.to_url()}&r={runs}")
        page.get_by_text("was lost").first.wait_for(timeout=60_000)
        assert page.get_by_text("Training", exact=True).count() == 0
        page.get_by_text(re.compile(r"Runs kept for this link \(1\)")).first.click()
        page.locator('[class*="st-key-run_open_"] button').first.click()
        page.get_by_text(re.compile("^Finished")).first.wait_for(timeout=30_000)
        assert step_metric(page) == 80
        page.context.close()
    assert os.path.isdir(tmp_path / "store" / "links" / runs)


def _ready(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url + "/ready", timeout=2) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:  # 503 while it warms up
        return err.code, json.loads(err.read())


def _maps_torch(pid: int) -> bool:
    return "libtorch" in open(f"/proc/{pid}/maps").read()


def test_a_fresh_server_is_ready_once_warm_before_any_visit(browser):
    """Streamlit's health check answers as soon as the server listens; `/ready` answers
    503 until the start-up warm-up has imported torch and the pages' modules, then 200,
    and the first visitor finds them loaded (no visit has run a page yet)."""
    with served_app(ready_path="/_stcore/health") as url:
        pid = server_pid(url)
        seen = []
        deadline = time.monotonic() + 60
        while (status := _ready(url))[0] != 200 and time.monotonic() < deadline:
            seen.append(status)
            time.sleep(0.05)
        assert status[0] == 200 and status[1]["ready"] is True, status
        assert status[1]["warm_up_s"] > 0
        assert all(code == 503 and body == {"ready": False} for code, body in seen)
        assert _maps_torch(pid)  # loaded by the warm-up: nobody has opened a page
        page = browser.new_context().new_page()
        page.goto(url)
        page.wait_for_selector(READY)
        assert page.locator("h1", has_text="Deep RNN Designer").count() == 1
        page.context.close()
