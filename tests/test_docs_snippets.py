"""Examples that cannot rot: every ```python block of README.md and docs/ runs here, and the pages stay wired.

Convention (for anyone writing a page):
- A fenced ```python block runs. The blocks of one page run in order in one namespace, in a scratch
  folder that holds ``photo.jpg`` (a rendered frontal face) and ``video.mp4`` (a 12-frame rendered
  clip), so ``zoo.load().predict("photo.jpg")`` and ``zoo.track("video.mp4")`` work as written.
- A block that cannot run in the tests (it needs real data, a GPU, minutes of work) is preceded by the
  line ``<!-- snippet: skip (why) -->`` (blank lines between are allowed); mkdocs renders nothing for it.
- Other fences (bash, text) are never run.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
FENCE = re.compile(r"^```python[^\n]*\n(.*?)^```", re.S | re.M)
SKIP = re.compile(r"<!--\s*snippet:\s*skip\b[^>]*-->\s*$")


def pages() -> list[Path]:
    """README.md and every Markdown page under docs/ (not the results/ link, which holds no pages of ours)."""
    found = [p for p in DOCS.rglob("*.md") if "results" not in p.relative_to(DOCS).parts] if DOCS.is_dir() else []
    return [ROOT / "README.md", *sorted(found)]


def snippets(text: str) -> list[tuple[int, str, bool]]:
    """(line number, code, skipped) of each ```python block."""
    out = []
    for m in FENCE.finditer(text):
        before = text[:m.start()].rstrip("\n").splitlines()
        skipped = bool(before) and bool(SKIP.search(before[-1]))
        out.append((text.count("\n", 0, m.start()) + 2, m.group(1), skipped))
    return out


def test_snippet_parser_honours_the_skip_marker() -> None:
    text = "a\n\n```python\nx = 1\n```\n\n<!-- snippet: skip (needs a video) -->\n\n```python\nboom()\n```\n```bash\nls\n```\n"
    assert snippets(text) == [(4, "x = 1\n", False), (10, "boom()\n", True)]


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A working folder with the files the pages' examples name."""
    import cv2

    from zoo.track.clips import render_clip

    folder = tmp_path_factory.mktemp("snippets")
    video = render_clip(folder / "clip", 12, "yaw_sweep", 0)
    (folder / "video.mp4").write_bytes(video.read_bytes())
    cap = cv2.VideoCapture(str(video))
    ok, frame = cap.read()
    cap.release()
    assert ok and cv2.imwrite(str(folder / "photo.jpg"), frame)
    return folder


@pytest.mark.parametrize("page", pages(), ids=lambda p: str(p.relative_to(ROOT)))
def test_python_examples_run(page: Path, scratch: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocks = [(line, code) for line, code, skipped in snippets(page.read_text()) if not skipped]
    if not blocks:
        pytest.skip(f"{page.name} has no runnable python examples")
    monkeypatch.chdir(scratch)
    namespace: dict = {"__name__": "__snippet__"}
    for line, code in blocks:
        try:
            exec(compile(code, f"{page.relative_to(ROOT)}:{line}", "exec"), namespace)  # noqa: S102 - the point
        except Exception as e:  # noqa: BLE001 - report which example broke, and where
            pytest.fail(f"{page.relative_to(ROOT)}, the python example at line {line} fails: {type(e).__name__}: {e}\n"
                        "(fix the example, or mark it <!-- snippet: skip (why) --> if it cannot run in the tests)")


def test_every_model_card_is_on_the_cards_page() -> None:
    cards = sorted(p.name for p in (ROOT / "zoo" / "weights").glob("*.md"))
    text = (DOCS / "cards.md").read_text()
    missing = [c for c in cards if f'--8<-- "zoo/weights/{c}"' not in text]
    assert not missing, f"docs/cards.md does not include {missing}; add a --8<-- line per card"


def test_every_page_is_in_the_nav_and_every_nav_entry_exists() -> None:
    import yaml

    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text().replace("!!python/name:", ""))

    def walk(nav: list) -> list[str]:
        out = []
        for item in nav:
            for value in (item.values() if isinstance(item, dict) else [item]):
                out += walk(value) if isinstance(value, list) else [value]
        return out

    nav = walk(config["nav"])
    on_disk = {str(p.relative_to(DOCS)) for p in pages()[1:]}
    assert on_disk <= set(nav), f"pages missing from mkdocs.yml's nav: {sorted(on_disk - set(nav))}"
    assert set(nav) <= on_disk, f"nav entries without a page: {sorted(set(nav) - on_disk)}"


def test_readme_stays_short_and_keeps_the_ci_command() -> None:
    """At most ~150 lines besides the generated table, and the block .ci/run reads is intact."""
    text = (ROOT / "README.md").read_text()
    table = re.search(r"<!-- zoo:table:choose -->.*?<!-- /zoo:table:choose -->", text, re.S)
    assert table, "README.md lost its choose table markers"
    assert len(text.replace(table.group(0), "").splitlines()) <= 150
    after = text.split("<!-- ci:test-command -->\n", 1)[1]
    command = after.split("```bash\n", 1)[1].split("```", 1)[0].strip()
    assert after.startswith("```bash\n") and "pip install -e '.[all,dev]'" in command and command.endswith("pytest -q")
