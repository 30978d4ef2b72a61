"""README.md and docs/ stand alone: every link points at a file (and heading) in the repository."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Well-known project homepages a page may link to; none so far.
ALLOWED_URL_PREFIXES: tuple[str, ...] = ()

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,}).*?^ {0,3}\1[ \t]*$", re.MULTILINE | re.DOTALL)
_CODE_SPAN = re.compile(r"(`+)(?!`).+?(?<!`)\1(?!`)", re.DOTALL)
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_INLINE_LINK = re.compile(
    r"!?\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*<?([^)\s>]*)>?(?:\s+\"[^\"]*\")?\s*\)"
)
_REFERENCE = re.compile(r"^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)", re.MULTILINE)
_HTML_LINK = re.compile(
    r"<(?:a|img)\b[^>]*?\b(?:href|src)\s*=\s*[\"']([^\"']*)[\"']", re.IGNORECASE
)
_BARE_URL = re.compile(r"\b(?:https?|ftp)://[^\s)>\]]+|\bwww\.[^\s)>\]]+", re.IGNORECASE)
_HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.+?)[ \t]*#*[ \t]*$", re.MULTILINE)
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


@dataclass(frozen=True)
class Link:
    page: Path
    target: str


def pages(root: Path = ROOT) -> list[Path]:
    """The pages that must stand alone: README.md and every docs/*.md."""
    return [root / "README.md", *sorted((root / "docs").glob("*.md"))]


def prose(text: str) -> str:
    """The text a reader sees as prose: without fenced code, code spans and HTML comments."""
    text = _FENCE.sub("", text)
    text = _HTML_COMMENT.sub("", text)
    return _CODE_SPAN.sub("", text)


def links(page: Path) -> Iterator[Link]:
    text = prose(page.read_text(encoding="utf-8"))
    for pattern in (_INLINE_LINK, _REFERENCE, _HTML_LINK):
        for match in pattern.finditer(text):
            yield Link(page, match.group(1))
        text = pattern.sub(" ", text)
    # What is left is plain text, where GitHub still turns a bare URL into a link.
    for match in _BARE_URL.finditer(text):
        yield Link(page, match.group(0))


def github_anchors(markdown: str) -> set[str]:
    """The anchors GitHub gives the headings of a page (duplicates get -1, -2, …)."""
    anchors: set[str] = set()
    seen: dict[str, int] = {}
    for match in _HEADING.finditer(_FENCE.sub("", markdown)):
        title = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", match.group(2))
        slug = re.sub(r"[^\w\- ]", "", title.lower()).replace(" ", "-")
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        anchors.add(slug if count == 0 else f"{slug}-{count}")
    return anchors


def repository_files(root: Path) -> set[Path] | None:
    """Files a clone has (tracked, or new and not ignored); None outside a git checkout."""
    git = shutil.which("git")
    if git is None or not (root / ".git").exists():
        return None
    listed = subprocess.run(
        [git, "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=root,
        capture_output=True,
        check=True,
    ).stdout.decode("utf-8")
    return {(root / name).resolve() for name in listed.split("\0") if name}


def problem(link: Link, *, root: Path, files: set[Path] | None) -> str | None:
    """Why `link` does not point inside the repository, or None when it does."""
    target = link.target
    if not target:
        return "empty link"
    if _SCHEME.match(target) or target.startswith("//") or target.lower().startswith("www."):
        if target.startswith(ALLOWED_URL_PREFIXES):
            return None
        return "points outside the repository"
    path_part, _, anchor = target.partition("#")
    if path_part.startswith("/"):
        return "absolute path (links must be relative)"
    resolved = (link.page.parent / unquote(path_part)).resolve() if path_part else link.page
    if not resolved.is_relative_to(root.resolve()):
        return "points outside the repository"
    if not resolved.exists():
        return "no such file"
    if files is not None:
        in_clone = resolved in files or any(f.is_relative_to(resolved) for f in files)
        if not in_clone:
            return "not in the repository (untracked or ignored)"
    if anchor:
        if resolved.suffix != ".md":
            return "an anchor into a file that is not markdown"
        if unquote(anchor) not in github_anchors(resolved.read_text(encoding="utf-8")):
            return f"no heading #{anchor} in {resolved.relative_to(root.resolve())}"
    return None


def problems(root: Path) -> list[str]:
    files = repository_files(root)
    found = []
    for page in pages(root):
        for link in links(page):
            why = problem(link, root=root, files=files)
            if why:
                found.append(f"{page.relative_to(root)}: ({link.target}) {why}")
    return found


@pytest.mark.parametrize("page", pages(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_link_points_inside_the_repository(page: Path) -> None:
    files = repository_files(ROOT)
    found = list(links(page))
    assert found, f"{page.name} links nowhere: the link parser missed them"
    bad = [
        f"({link.target}) {why}" for link in found if (why := problem(link, root=ROOT, files=files))
    ]
    assert not bad, "\n".join(bad)


def test_the_docs_pages_exist_and_the_readme_links_each() -> None:
    readme = {link.target for link in links(ROOT / "README.md")}
    for name in ("architecture", "messages", "operations", "security", "api", "development"):
        assert (ROOT / "docs" / f"{name}.md").is_file()
        assert f"docs/{name}.md" in readme


def test_shared_folder_is_named_only_as_where_the_build_looks() -> None:
    for page in pages():
        text = page.read_text(encoding="utf-8")
        for match in re.finditer(r"\.\./shared\b\S*", text):
            assert match.group(0).startswith("../shared/vendor"), f"{page.name}: {match.group(0)}"


def test_the_checker_catches_links_that_leave_the_repository(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "b.md").write_text("# Where it is\n\n## Twice\n\n## Twice\n")
    (tmp_path / "README.md").write_text(
        "[ok](docs/b.md#where-it-is) [ok](docs/b.md#twice-1) [ok](#top) "
        "[spec](../shared/SPEC.md) [web](https://example.com/) [gone](docs/none.md) "
        "[anchor](docs/b.md#nowhere) [abs](/etc/passwd) see http://example.org/x\n"
        "`[in code](../outside.md)`\n\n# Top\n"
    )
    assert problems(tmp_path) == [
        "README.md: (../shared/SPEC.md) points outside the repository",
        "README.md: (https://example.com/) points outside the repository",
        "README.md: (docs/none.md) no such file",
        "README.md: (docs/b.md#nowhere) no heading #nowhere in docs/b.md",
        "README.md: (/etc/passwd) absolute path (links must be relative)",
        "README.md: (http://example.org/x) points outside the repository",
    ]


PACKAGE = Path("src") / "taskdash"
# A path of a Python module anywhere on a page (prose, code spans, diagrams): `domain/holding.py`,
# src/taskdash/loops.py, tests/processes.py; not a tail of a longer path or a URL.
_MODULE_PATH = re.compile(r"(?<![\w./:*-])((?:[\w-]+/)+[\w-]+\.py)\b")
# A folder in a code span: `store/sqlite/`, `tests/web/`.
_FOLDER_SPAN = re.compile(r"`((?:[\w-]+/)+)`")
# A module named alone in a code span: `holding.py`.
_MODULE_NAME_SPAN = re.compile(r"`([\w-]+\.py)`")
_PACKAGE_PATH = re.compile(r"\bsrc/taskdash/[\w./-]*")


def named_paths(text: str) -> set[str]:
    """The module and folder paths a page names: src/taskdash/…, `a/b.py` and `a/b/`."""
    found = {m.group(0).rstrip(".") for m in _PACKAGE_PATH.finditer(text)}
    found |= {m.group(1) for m in _MODULE_PATH.finditer(text)}
    found |= {m.group(1) for m in _FOLDER_SPAN.finditer(text)}
    return found


def path_problem(path: str, *, root: Path) -> str | None:
    """Why a named path is in neither the repository nor src/taskdash/, or None."""
    for base in (root, root / PACKAGE):
        if (base / path).exists():
            return None
    return f"{path}: no such file or folder (looked at the root and at {PACKAGE}/)"


def module_name_problem(name: str, *, root: Path) -> str | None:
    """Why a module named alone is no file of the repository, or None."""
    if any(True for _ in (root / "src").rglob(name)) or any(
        True for folder in ("tests", "bench", "scripts") for _ in (root / folder).rglob(name)
    ):
        return None
    return f"{name}: no module of that name in src/, tests/, bench/ or scripts/"


def module_problems(root: Path) -> list[str]:
    found = []
    for page in pages(root):
        text = page.read_text(encoding="utf-8")
        why = [path_problem(path, root=root) for path in sorted(named_paths(text))]
        why += [
            module_name_problem(name, root=root)
            for name in sorted({m.group(1) for m in _MODULE_NAME_SPAN.finditer(text)})
        ]
        found += [f"{page.relative_to(root)}: {w}" for w in why if w]
    return found


def test_every_module_the_docs_name_exists() -> None:
    assert not module_problems(ROOT), "\n".join(module_problems(ROOT))


def test_the_module_checker_catches_a_module_that_is_gone(tmp_path: Path) -> None:
    (tmp_path / "src" / "taskdash" / "domain").mkdir(parents=True)
    (tmp_path / "src" / "taskdash" / "domain" / "holding.py").write_text("")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "servers.py").write_text("")
    (tmp_path / "docs").mkdir()
    (tmp_path / "README.md").write_text(
        "`domain/holding.py`, src/taskdash/domain/holding.py, `tests/servers.py`, `domain/`,\n"
        "`holding.py`, `servers.py`, http://example.org/a/b.py\n\n"
        "```\nweb/live.py ──► domain/\n```\n"
        "`domain/_over.py` src/taskdash/loops.py `messaging/` `gone.py`\n"
    )
    assert module_problems(tmp_path) == [
        "README.md: domain/_over.py: no such file or folder "
        "(looked at the root and at src/taskdash/)",
        "README.md: messaging/: no such file or folder (looked at the root and at src/taskdash/)",
        "README.md: src/taskdash/loops.py: no such file or folder "
        "(looked at the root and at src/taskdash/)",
        "README.md: web/live.py: no such file or folder (looked at the root and at src/taskdash/)",
        "README.md: gone.py: no module of that name in src/, tests/, bench/ or scripts/",
    ]
