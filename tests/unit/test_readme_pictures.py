"""The README's pictures: each one it shows is made by `python -m tools.screenshots`
from a browser test that exists (and that test leaves it under artifacts/)."""

import re
from pathlib import Path

from tools.screenshots import PICTURES, ROOT


def test_every_picture_of_the_readme_has_a_test_that_takes_it():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    shown = set(re.findall(r"!\[[^\]]*\]\((docs/[^)]+\.png)\)", readme))
    assert shown and shown == set(PICTURES)
    for test, made in PICTURES.values():
        path, name = test.split("::")
        source = Path(ROOT / path).read_text(encoding="utf-8")
        assert f"def {name}(" in source, test
        assert f'artifact("{made}")' in source, (test, made)  # where it leaves the picture
    assert all((ROOT / target).is_file() for target in PICTURES)
