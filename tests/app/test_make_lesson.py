"""Lessons that teachers make, through AppTest: "Make a lesson" on the Compare page from
two kept runs (the rule picker writing the rule, a bad rule's problem, the downloaded
document, "Open as a lesson"), and the Lessons page playing a lesson document from a
link or a file (prediction, Train, verdict, its class's own tally) and refusing a
damaged one in words; a document's HTML and Markdown images shown as written. In
Chinese too, with no English sentence on the page (names, code and units aside)."""

import json
import re
import zlib
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest

from components.lessons.lesson_runs import shared_runs
from designer import Experiment
from designer.i18n import _, using
from designer.lessons.document import lesson_from_url, lesson_to_url, new_lesson, read_lesson
from designer.lessons.document import shown_text as as_written
from tests.helpers import checkpoint_file, english_left, experiment_doc, layer_doc, wait_for
from tests.helpers import upload_checkpoint as upload

APP = str(Path(__file__).resolve().parents[2] / "streamlit_app.py")
COMPARE = "app_pages/compare.py"
LESSONS = "app_pages/lessons.py"
QUICK = {"steps": 40, "batch_size": 16, "eval_every": 20, "clip_norm": 1.0}


@pytest.fixture
def pair(request):
    """Two quick runs (tanh RNN and LSTM, 4 units), with a seed of this test's own
    (a lesson's runs are shared by the server: another test's would be trained
    already); their shared runs stopped when the test ends."""
    seed = zlib.crc32(request.node.name.encode()) % 10_000 + 40_000
    runs = [
        Experiment.from_dict(experiment_doc("adding", 8, layer_doc(kind, 4), **QUICK, seed=seed))
        for kind in ("rnn", "lstm")
    ]
    yield runs
    for exp in runs:
        runner = shared_runs().get(exp)
        if runner is not None:
            runner.stop(wait=5)


@pytest.fixture
def downloads(monkeypatch):
    """The files the page offers to download: file name -> bytes."""
    files = {}
    load = MemoryMediaFileStorage.load_and_get_id

    def keep(self, path_or_data, mimetype, kind, filename=None):
        if filename:
            files[filename] = path_or_data
        return load(self, path_or_data, mimetype, kind, filename)

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", keep)
    return files


def compare_two(app_on_page, pair, lang=None):
    """Compare, on the two runs brought back as checkpoint files."""
    at = app_on_page(pair[0], COMPARE, lang)
    upload(at, "a.pt", checkpoint_file(pair[0], "tanh"))
    upload(at, "b.pt", checkpoint_file(pair[1], "LSTM"))
    return at


def write(at, lang: str, **texts) -> None:
    """Type each text into its field (in the page's language)."""
    for field, value in texts.items():
        widget = at.text_area if field in ("question", "why") else at.text_input
        widget(key=f"ml_{field}_{lang}").input(value).run()


def param(at, name: str) -> str | None:
    value = at.query_params.get(name)
    return value[0] if isinstance(value, list) else value


def lesson_texts(at) -> str:
    return " ".join(e.value for kind in ("markdown", "title", "caption") for e in getattr(at, kind))


def play(at, lesson, guess: int) -> None:
    """Predict, train the lesson's runs and wait for them to end."""
    at.radio(key=f"guess_{lesson.name}").set_value(guess).run()
    at.button(key="lesson_train").click().run()
    runners = [shared_runs().get(run.experiment()) for run in lesson.runs]
    assert all(runners)
    assert wait_for(lambda: all(not r.alive for r in runners), 60)
    at.run()
    assert not at.exception, at.exception


def test_make_a_lesson_on_compare_then_open_and_play_it(app_on_page, pair, downloads):
    at = compare_two(app_on_page, pair)
    assert any(i.value.startswith("Still to write: Title") for i in at.info)
    write(at, "en", title="Gates or not", question="Which learns to add?")
    write(at, "en", choice_0="the tanh RNN", choice_1="the LSTM", why="Its cell keeps the sum.")
    at.radio(key="ml_answer").set_value(1).run()
    # the picker writes the rule; the rule reads back in words
    at.selectbox(key="ml_metric").set_value("val_loss").run()
    at.selectbox(key="ml_run").set_value("B").run()
    at.radio(key="ml_against").set_value("baseline").run()
    at.number_input(key="ml_factor").set_value(3.0).run()
    at.button(key="ml_rule_write").click().run()
    assert at.text_input(key="ml_rule").value == "val_loss: B < 3 * baseline"
    said = [c.value.replace("\\", "") for c in at.caption if c.value.startswith("The rule reads")]
    assert said == ["The rule reads: B's final validation loss < 3 × the baseline's"]
    # a bad rule says what is wrong, under the field, and nothing is offered
    at.text_input(key="ml_rule").input("val_loss: B <<").run()
    assert any("at 'B <<'" in e.value.replace("\\", "") for e in at.error)
    assert not [b for b in at.button if b.key == "ml_open"]
    at.button(key="ml_rule_add").click().run()  # the picker's clause, after the bad one
    assert at.text_input(key="ml_rule").value == "val_loss: B << and val_loss: B < 3 * baseline"
    at.text_input(key="ml_rule").input("val_loss: B < 3 * baseline").run()
    assert any("The lesson is ready" in s.value for s in at.success)
    (link,) = [c.value for c in at.code if "/lessons?doc=" in c.value]  # the whole lesson
    token = parse_qs(urlsplit(link).query)["doc"][0]
    assert lesson_from_url(token).prediction.question == "Which learns to add?"

    # the file: a lesson document the Lessons page reads
    made = read_lesson(downloads["gates-or-not.json"])
    assert made.prediction.question == "Which learns to add?"
    assert [run.experiment() for run in made.runs] == pair
    assert [s.view for s in made.steps] == ["curves", "table"]

    # what was written survives a visit to another page
    at.switch_page("app_pages/design.py").run()
    at.switch_page(COMPARE).run()
    assert at.text_input(key="ml_title_en").value == "Gates or not"
    assert at.text_input(key="ml_rule").value == "val_loss: B < 3 * baseline"

    at.button(key="ml_open").click().run()
    assert not at.exception, at.exception
    assert [t.value for t in at.title] == ["Lesson: Gates or not"]
    assert "Which learns to add?" in lesson_texts(at)
    lesson = lesson_from_url(param(at, "doc"))
    at.switch_page(LESSONS)  # AppTest runs its own page again, not the one switched to
    play(at, lesson, guess=1)
    (verdict,) = at.success
    assert "validation loss" in verdict.value and "yes" in verdict.value
    assert any("You predicted right: the LSTM" in m.value for m in at.markdown)
    assert "Its cell keeps the sum." in lesson_texts(at)


def test_the_steps_are_added_removed_and_given_a_run(app_on_page, pair):
    at = compare_two(app_on_page, pair)
    at.button(key="ml_step_add").click().run()
    assert at.selectbox(key="ml_step_2_view").value == "curves"
    at.selectbox(key="ml_step_2_view").set_value("gradient-map").run()
    assert at.selectbox(key="ml_step_2_run").options == ["A", "B"]
    at.button(key="ml_step_0_remove").click().run()
    views = [s.value for s in at.selectbox if (s.key or "").endswith("_view")]
    assert views == ["table", "gradient-map"]
    assert [t.label for t in at.text_input if (t.key or "").startswith("ml_step")] == [
        "Step 1: title",
        "Step 2: title",
    ]


@pytest.mark.usefixtures("chinese_thread")
def test_make_a_lesson_in_chinese_and_english_then_open_it(app_on_page, pair, downloads):
    at = compare_two(app_on_page, pair, "zh")
    assert not english_left(at), english_left(at)
    at.toggle(key="ml_both").set_value(True).run()
    # the walk-through starts in both languages; each field's language is named
    with using("zh"):
        first = _("Watch the loss")
    assert at.text_input(key="ml_step_0_title_zh").value == first
    assert at.text_input(key="ml_step_0_title_en").value == "Watch the loss"
    assert at.text_input(key="ml_title_en").label.endswith("(English)")
    write(at, "zh", title="门控", question="哪一个学会了加法？", why="记忆元保存了和。")
    write(at, "zh", choice_0="tanh RNN", choice_1="LSTM")
    write(at, "en", title="Gates", question="Which learns to add?")
    at.radio(key="ml_answer").set_value(1).run()
    at.radio(key="ml_against").set_value("number").run()
    at.number_input(key="ml_number").set_value(1.5).run()
    at.button(key="ml_rule_write").click().run()
    assert at.text_input(key="ml_rule").value == "val_loss: B < 1.5"
    assert not english_left(at), english_left(at)
    made = read_lesson(downloads["gates.json"])
    with using("en"):
        assert _(made.title) == "Gates" and _(made.prediction.question) == "Which learns to add?"
        assert _(made.prediction.why) == "记忆元保存了和。"  # the one language written
    with using("zh"):
        assert _(made.title) == "门控" and _(made.steps[0].title) == first
    at.button(key="ml_open").click().run()
    assert [t.value for t in at.title] == ["课例：门控"]
    assert param(at, "lang") == "zh"
    assert not english_left(at), english_left(at)


def quick_lesson(pair, **texts) -> dict:
    """A lesson document of the two quick runs."""
    return new_lesson(
        [("tanh RNN", pair[0]), ("LSTM", pair[1])],
        texts.get("question", "Which one learns?"),
        ["the tanh RNN", "the LSTM"],
        1,
        "val_loss: B < 20 * baseline",  # tiny runs: any that trained passes
        title=texts.get("title", "A quick lesson"),
        why=texts.get("why", "Gates."),
        passed=texts.get("passed", ""),
        read_more=texts.get("read_more", ""),
    )


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_documents_html_and_images_are_shown_as_written(app_on_page, pair, lang, request):
    if lang == "zh":
        request.getfixturevalue("chinese_thread")
    crafted = "<img src=x onerror=alert(1)> ![pic](http://example.com/a.png) [link](http://x)"
    data = quick_lesson(pair, title="<b>Bold</b>", question=crafted)
    lesson = read_lesson(json.dumps(data))
    at = app_on_page(pair[0], LESSONS, lang, doc=lesson_to_url(lesson))
    texts = lesson_texts(at)
    assert as_written(crafted) in texts and crafted not in texts
    assert "\\<img" in texts and "!\\[pic\\]" in texts  # a "!" alone makes no image
    (title,) = at.title
    with using(lang):
        assert title.value == _("Lesson: {title}").format(title=as_written("<b>Bold</b>"))
    if lang == "zh":
        assert title.value.startswith("课例：")
        own = json.dumps(data["prediction"]) + data["title"]  # the document's own words
        left = [s for s in english_left(at) if s not in own]
        assert not left, left


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_damaged_link_or_file_says_what_is_wrong(app_on_page, pair, lang, request):
    if lang == "zh":
        request.getfixturevalue("chinese_thread")
    at = app_on_page(pair[0], LESSONS, lang, doc="not-a-lesson")
    (warning,) = at.warning
    with using(lang):
        expected = _("The lesson link could not be opened. The problem:")
    assert warning.value.startswith(expected) and "not-a-lesson" not in warning.value
    assert [b for b in at.button if (b.key or "").startswith("open_")]  # the list
    assert param(at, "doc") is None
    bad = {**quick_lesson(pair), "name": "Not A Name!", "steps": [{"view": "nowhere"}]}
    (uploader,) = [u for u in at.file_uploader if (u.key or "").startswith("lesson_file")]
    uploader.upload("bad.json", json.dumps(bad).encode(), "application/json").run()
    assert not at.exception, at.exception
    (warning,) = at.warning
    first, *lines = warning.value.replace("\\", "").split("\n")
    assert first.startswith("'bad.json'")
    assert lines[0].startswith("- name") and "'Not A Name!'" in lines[0]
    assert any(line.startswith("- steps[0].view") for line in lines)
    assert param(at, "doc") is None
    if lang == "zh":  # in whole Chinese sentences; the document's own values as written
        quoted = set(re.findall(r"[A-Za-z]+", " ".join(re.findall(r"'[^']*'", warning.value))))
        left = [s for s in english_left(at) if not set(re.findall(r"[A-Za-z]+", s)) <= quoted]
        assert not left, left


def test_a_good_file_plays_and_two_documents_never_share_a_class(app_on_page, pair):
    data = quick_lesson(pair)
    at = app_on_page(pair[0], LESSONS)
    (uploader,) = [u for u in at.file_uploader if (u.key or "").startswith("lesson_file")]
    uploader.upload("mine.json", json.dumps(data).encode(), "application/json").run()
    assert [t.value for t in at.title] == ["Lesson: A quick lesson"]
    at.button(key="tally_make").click().run()
    assert not at.exception, at.exception
    links = [c.value for c in at.code if "class=" in c.value]
    assert links and all("doc=" in link for link in links)
    class_id = param(at, "class")
    # the same runs and name, another question: not the same lesson's class
    other = read_lesson(json.dumps(quick_lesson(pair, question="Another question?")))
    elsewhere = app_on_page(pair[0], LESSONS, doc=lesson_to_url(other), **{"class": class_id})
    assert any("not known to this server" in w.value for w in elsewhere.warning)
    same = app_on_page(pair[0], LESSONS, doc=param(at, "doc"), **{"class": class_id})
    assert not same.warning


def test_a_document_in_classroom_mode_plays_with_its_own_sentence(pair):
    data = quick_lesson(
        pair, passed="<i>It did</i>: {B.words}.", read_more="Dive into Deep Learning, LSTM"
    )
    lesson = read_lesson(json.dumps(data))
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["doc"] = lesson_to_url(lesson)
    at.query_params["classroom"] = "1"  # at the root address: the lesson, alone
    at.run()
    assert not at.exception, at.exception
    assert [t.value for t in at.title] == ["Lesson: A quick lesson"]
    assert any(c.value == "Read more: Dive into Deep Learning, LSTM" for c in at.caption)
    assert not at.expander and not at.sidebar.button  # no share links, no presets
    play(at, lesson, guess=0)
    (verdict,) = at.success
    assert verdict.value.startswith("\\<i\\>It did\\</i\\>: validation mse ")
    assert any("The result says otherwise: the LSTM" in m.value for m in at.markdown)
