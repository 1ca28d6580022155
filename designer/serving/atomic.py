"""Files written whole or not at all: the data is written beside its target under a
name no other writer uses (process and a random part, so threads and replicas that
share a folder never collide), then renamed over it in one step. A process killed
mid-write leaves at most a hidden `.part` file, never half a record."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def write_atomically(path: Path, text: str) -> None:
    partial = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.part")
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)
