"""Every Python code block in README.md and docs/**/*.md runs, in order, and links resolve.

The rules a page follows (docs/index.md, "Writing a page", says the same for authors):

- A block fenced as ```python is executed; output, reports and tracebacks are fenced as
  ```text (or ```bash for shell commands, which are not executed here: the two commands of
  the README are what CI itself runs).
- Each block starts with a fresh namespace, unless the line just before its opening fence is
  ``<!-- continues -->``: then it runs in the namespace of the block before it, so a page can
  build one example over several blocks with prose between them.
- A ```text block right after the line ``<!-- output -->`` is what the Python block before it
  prints: the test compares the two (trailing spaces, blank lines at the ends and the line
  numbers of a page quoted in a report aside), so a report shown in a page is the one the
  code above it really prints.
- Blocks run in a temporary working directory (files they write land there) with a time limit
  of BLOCK_SECONDS each, and PAGE_SECONDS for all the blocks of a page.

A block is compiled with the page's path in the repository (``README.md``) as its file name
and with its own line numbers, and the page's Python view (its Python blocks where they
stand, every other line blank) is put in ``linecache`` under that name: a failure's
traceback points at the line of the page, tools that read and parse source code
(``tg.check_backprop``, ``inspect``) find it, and what they print does not depend on where
the repository is checked out.
"""

import contextlib
import io
import linecache
import pathlib
import re
import signal
import time
import warnings

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md"] + sorted((ROOT / "docs").rglob("*.md"))
CONTINUES = "<!-- continues -->"
OUTPUT = "<!-- output -->"
BLOCK_SECONDS = 30
PAGE_SECONDS = 60

FENCE = re.compile(r"^(\s*)```(\S*)\s*$")


def code_blocks(text):
    """[(first line number, language, source, marker)] for every fenced block of ``text``.

    ``marker`` is the line just before the opening fence when it is an HTML comment (such as
    ``<!-- continues -->``), else "".
    """
    blocks, lines, i = [], text.splitlines(), 0
    while i < len(lines):
        opening = FENCE.match(lines[i])
        if not opening:
            i += 1
            continue
        indent, language = opening.groups()
        previous = next((line.strip() for line in reversed(lines[:i]) if line.strip()), "")
        j = i + 1
        while j < len(lines) and lines[j].strip() != "```":
            j += 1
        body = [line[len(indent):] if line.startswith(indent) else line for line in lines[i + 1:j]]
        marker = previous if previous.startswith("<!--") else ""
        blocks.append((i + 2, language, "\n".join(body) + "\n", marker))
        i = j + 1
    return blocks


def python_view(text):
    """``text`` with every line blank except those of its ```python blocks (dedented)."""
    lines = [""] * len(text.splitlines())
    for first, language, source, _ in code_blocks(text):
        if language == "python":
            for offset, line in enumerate(source.splitlines()):
                lines[first - 1 + offset] = line
    return "\n".join(lines) + "\n"


def _page_id(path):
    return str(path.relative_to(ROOT))


class BlockTimeout(Exception):
    pass


def _alarm(signum, frame):
    raise BlockTimeout(f"a block ran longer than {BLOCK_SECONDS} s")


@pytest.mark.parametrize("page", PAGES, ids=_page_id)
def test_python_blocks_run_in_order(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace, printed = None, None
    name = _page_id(page)
    text = page.read_text(encoding="utf-8")
    view = python_view(text)
    linecache.cache[name] = (len(view), None, view.splitlines(True), name)   # no mtime: kept
    previous_handler = signal.signal(signal.SIGALRM, _alarm)
    started = time.monotonic()
    try:
        for line, language, source, marker in code_blocks(text):
            if marker == OUTPUT:
                assert printed is not None, f"{_page_id(page)}:{line}: '{OUTPUT}' after no Python block"
                assert _lines(source) == _lines(printed), (
                    f"{_page_id(page)}:{line}: the page shows an output that differs from what the "
                    f"block before it prints, which is:\n{printed}")
                continue
            if language != "python":
                continue
            continues = marker == CONTINUES
            if continues and namespace is None:
                pytest.fail(f"{_page_id(page)}:{line}: '{CONTINUES}' but no Python block before it")
            if not continues:
                namespace = {"__name__": "__main__"}
                np.random.seed(0)
            # padded so the code object's line numbers are the page's own
            code = compile("\n" * (line - 1) + source, name, "exec")
            stdout = io.StringIO()
            signal.alarm(BLOCK_SECONDS)
            try:
                with warnings.catch_warnings(), contextlib.redirect_stdout(stdout):
                    warnings.simplefilter("default")
                    exec(code, namespace)
            finally:
                signal.alarm(0)
                printed = stdout.getvalue()
            took = time.monotonic() - started
            assert took < PAGE_SECONDS, f"{name}: its blocks took {took:.0f} s, over {PAGE_SECONDS} s"
    finally:
        signal.signal(signal.SIGALRM, previous_handler)
        linecache.cache.pop(name, None)


def _lines(text):
    """Trailing spaces and blank lines at the ends dropped, and a page's own line numbers
    (``README.md:146``) made ``README.md:N``, so that editing a page above a report that
    quotes it does not change the report."""
    text = "\n".join(line.rstrip() for line in text.splitlines()).strip("\n")
    return re.sub(r"(\w\.md):\d+", r"\1:N", text)


def test_the_markers_are_found():
    page = "text\n\n```python\nx = 1\n```\n\n<!-- continues -->\n```python\ny = x\n```\n```text\nout\n```\n"
    blocks = code_blocks(page)
    assert [(b[0], b[1], b[3]) for b in blocks] == [(4, "python", ""), (9, "python", CONTINUES),
                                                   (12, "text", "")]
    assert blocks[1][2] == "y = x\n"


def test_continued_block_sees_the_names_of_the_one_before(tmp_path, monkeypatch):
    page = tmp_path / "page.md"
    page.write_text("```python\nvalue = 41\n```\n\n<!-- continues -->\n```python\n"
                    "value += 1\nassert value == 42\n```\n\n```python\nassert 'value' not in dir()\n```\n")
    monkeypatch.setattr(pathlib.Path, "relative_to", lambda self, other: self.name)
    test_python_blocks_run_in_order(page, tmp_path, monkeypatch)


def test_failing_block_reports_its_line_in_the_page(tmp_path, monkeypatch):
    page = tmp_path / "page.md"
    page.write_text("intro\n\n```python\nx = 1\ny = undefined_name\n```\n")
    monkeypatch.setattr(pathlib.Path, "relative_to", lambda self, other: self.name)
    with pytest.raises(NameError) as info:
        test_python_blocks_run_in_order(page, tmp_path, monkeypatch)
    assert str(info.traceback[-1].path).endswith("page.md") and info.traceback[-1].lineno + 1 == 5


def test_shown_output_must_be_what_the_block_prints(tmp_path, monkeypatch):
    page = tmp_path / "page.md"
    monkeypatch.setattr(pathlib.Path, "relative_to", lambda self, other: self.name)
    page.write_text("```python\nprint('a  ')\nprint(1 + 1)\n```\n<!-- output -->\n```text\na\n2\n```\n")
    test_python_blocks_run_in_order(page, tmp_path, monkeypatch)
    page.write_text("```python\nprint('at page.md:1')\n```\n<!-- output -->\n```text\nat page.md:7\n```\n")
    test_python_blocks_run_in_order(page, tmp_path, monkeypatch)
    page.write_text("```python\nprint(1 + 2)\n```\n<!-- output -->\n```text\n2\n```\n")
    with pytest.raises(AssertionError, match="differs"):
        test_python_blocks_run_in_order(page, tmp_path, monkeypatch)


LINK = re.compile(r"\]\(([^)\s]+)\)")


@pytest.mark.parametrize("page", PAGES, ids=_page_id)
def test_relative_links_point_at_files(page):
    prose, fenced = [], False                       # links inside code blocks are code
    for line in page.read_text(encoding="utf-8").splitlines():
        if FENCE.match(line):
            fenced = not fenced if line.strip() == "```" else True
        elif not fenced:
            prose.append(line)
    text = "\n".join(prose)
    missing = []
    for target in LINK.findall(text):
        if re.match(r"[a-z]+:", target) or target.startswith("#"):
            continue
        if not (page.parent / target.split("#")[0]).exists():
            missing.append(target)
    assert not missing, f"{_page_id(page)} links to missing files: {missing}"


def test_readme_stays_a_five_minute_read():
    # the front door: what it is, the commands, a first model, one picture, one report of
    # each tool, links. Reference material belongs in docs/ (see docs/index.md).
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 250, f"README.md has {len(lines)} lines; move reference material to docs/"
