"""CI: GitHub annotations from build logs and test reports, and pull-request previews that open from disk.

Used by the workflows in ``.github/workflows/`` (see *Developer reference → Quality checks*):

``python -m coguide.tools.ci build SITE``
    Build the site into SITE as ``coguide build`` does, printing its output and MkDocs's warnings; if
    the build fails, also print a GitHub annotation for every problem (the check's ``path:line: [code]``
    lines and MkDocs's warnings, such as a broken link), on the file and line at fault. Exits as the
    build does.
``python -m coguide.tools.ci junit REPORT``
    Print a GitHub annotation for every failed or broken test in a pytest JUnit XML report, on the
    line of the test file where it failed.
``python -m coguide.tools.ci preview SITE DEST``
    Copy a built site to DEST with every link to a folder (``terms/client/``) pointed at the folder's
    ``index.html``, so the copy can be unzipped and browsed from disk, where a folder is not a page.

``junit`` and ``preview`` exit 0 whatever they find: the step that failed has already failed the job.
"""

from __future__ import annotations

import contextlib
import io
import logging
import re
import shutil
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

# coguide's own problem lines: "path:line: [code] message (hint)" or "path: [code] message".
_PROBLEM = re.compile(
    r"^(?P<path>[\w./-]+?)(?::(?P<line>\d+))?: (?P<level>warning: )?\[(?P<code>[a-z0-9-]+)\] (?P<text>.+)$"
)
# MkDocs's log lines: "WARNING -  Doc file 'about.md' contains a link 'x.md', but the target ..."
_MKDOCS = re.compile(r"^(?P<level>WARNING|ERROR)\s+-\s+(?P<text>.+)$")
_DOC_FILE = re.compile(r"Doc file '(?P<file>[^']+)'")
_QUOTED = re.compile(r"'([^']+)'")
# A traceback line in a test failure: "tests/test_cli.py:42: AssertionError".
_TRACE = re.compile(r"^(?P<path>[\w./-]+\.py):(?P<line>\d+): ", re.MULTILINE)


@dataclass(frozen=True, kw_only=True)
class Annotation:
    """One GitHub workflow annotation."""

    level: str
    message: str
    file: str = ""
    line: int | None = None
    title: str = ""

    def format(self) -> str:
        """Format as a workflow command, escaping what GitHub requires."""
        props = []
        if self.file:
            props.append(f"file={_escape_property(self.file)}")
        if self.line:
            props.append(f"line={self.line}")
        if self.title:
            props.append(f"title={_escape_property(self.title)}")
        head = f"::{self.level}" + (" " + ",".join(props) if props else "")
        return f"{head}::{_escape_data(self.message)}"


def _escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(value: str) -> str:
    return _escape_data(value).replace(":", "%3A").replace(",", "%2C")


def _line_containing(path: Path, needle: str) -> int | None:
    """Return the first line of a file that contains `needle`, or None."""
    try:
        for number, line in enumerate(path.read_text(encoding="utf-8-sig").splitlines(), start=1):
            if needle in line:
                return number
    except (OSError, UnicodeDecodeError):
        return None
    return None


def build_log_annotations(log: str, root: Path, docs_dir: str = "docs") -> Iterator[Annotation]:
    """Yield an annotation for each problem in the output of ``coguide build``.

    Args:
        log: The build's output (stdout and stderr together).
        root: The project folder, to find the line a MkDocs warning is about.
        docs_dir: MkDocs's docs folder, relative to `root`.
    """
    for raw in log.splitlines():
        line = raw.strip()
        problem = _PROBLEM.match(line)
        if problem and (root / problem["path"]).exists():
            yield Annotation(
                level="warning" if problem["level"] else "error",
                file=problem["path"],
                line=int(problem["line"]) if problem["line"] else None,
                title=f"coguide check: {problem['code']}",
                message=f"[{problem['code']}] {problem['text']}",
            )
            continue
        mkdocs = _MKDOCS.match(line)
        if mkdocs is None:
            continue
        text = mkdocs["text"]
        doc = _DOC_FILE.search(text)
        if doc is None:
            yield Annotation(level="error", title="MkDocs build", message=text)
            continue
        path = f"{docs_dir}/{doc['file']}"
        quoted = [q for q in _QUOTED.findall(text) if q != doc["file"]]
        at = _line_containing(root / path, quoted[0]) if quoted else None
        exists = (root / path).is_file()
        yield Annotation(
            level="error",
            file=path if exists else "",
            line=at if exists else None,
            title="MkDocs build",
            message=text,
        )


def junit_annotations(report: str, root: Path) -> Iterator[Annotation]:
    """Yield an annotation for each failed or broken test in a pytest JUnit XML report.

    The annotation goes on the deepest line of a file in the project that the failure's traceback
    names (the assertion that failed), or on the test itself when the traceback names none.
    """
    tree = ET.fromstring(report)
    for case in tree.iter("testcase"):
        for outcome in ("failure", "error"):
            element = case.find(outcome)
            if element is None:
                continue
            details = element.text or ""
            located = [m for m in _TRACE.finditer(details) if (root / m["path"]).is_file()]
            file = located[-1]["path"] if located else case.get("file", "")
            line = int(located[-1]["line"]) if located else None
            if line is None and case.get("line", "").isdigit():
                line = int(case.get("line", "0")) + 1  # JUnit's line is 0-based
            lines = details.strip().splitlines()
            message = element.get("message") or (lines[-1] if lines else outcome)
            name = ".".join(p for p in (case.get("classname", ""), case.get("name", "")) if p)
            yield Annotation(
                level="error",
                file=file,
                line=line,
                title=f"test {'failed' if outcome == 'failure' else 'error'}: {name}",
                message=message[:2000],
            )


# Attributes holding a link a browser follows, and the redirect pages' script and refresh targets.
_LINK = re.compile(r'(?P<pre>\b(?:href|src)=")(?P<url>[^"]*)(?P<post>")')
_REFRESH = re.compile(r'(?P<pre>content="\d+;\s*url=)(?P<url>[^"]*)(?P<post>")', re.IGNORECASE)
_SCRIPT = re.compile(r'(?P<pre>location\.(?:href|replace\()\s*=?\s*")(?P<url>[^"]*)(?P<post>")')


def disk_url(url: str, depth: int | None = None) -> str:
    """Point a relative link to a folder at the folder's index.html; leave every other link alone.

    Args:
        url: A link as written in a page.
        depth: How many folders deep the page is; a link that climbs higher (which a web server reads
            as the site's root) is cut to the root, as it would be over HTTP.
    """
    if not url or re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:|^//|^#", url):
        return url
    if depth is not None:
        while url.startswith("../") and url.count("../", 0, 3 * (depth + 1)) > depth:
            url = url[3:]
    cut = len(url.split("?")[0].split("#")[0])
    path, rest = url[:cut], url[cut:]
    if path.endswith("/"):
        return path + "index.html" + rest
    if path.rsplit("/", 1)[-1] in (".", ".."):
        return path + "/index.html" + rest
    return url


def make_preview(site: Path, dest: Path) -> int:
    """Copy `site` to `dest` with folder links pointed at index.html; return the number of pages rewritten."""
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(site, dest)
    pages = 0
    for page in dest.rglob("*.html"):
        depth = len(page.relative_to(dest).parts) - 1

        def rewrite(match: re.Match[str], depth: int = depth) -> str:
            return match["pre"] + disk_url(match["url"], depth) + match["post"]

        text = page.read_text(encoding="utf-8")
        updated = _SCRIPT.sub(rewrite, _REFRESH.sub(rewrite, _LINK.sub(rewrite, text)))
        if updated != text:
            page.write_text(updated, encoding="utf-8")
            pages += 1
    return pages


class _MkDocsWarnings(logging.Handler):
    """Collect (and echo, as the engine's own command line would) the warnings logged during a build."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        line = f"{record.levelname:<7} -  {record.getMessage()}"
        self.lines.append(line)
        print(line, file=sys.stderr)


def build_and_annotate(root: Path, site: Path) -> int:
    """Build the site as ``coguide build`` does; if it fails, print an annotation for every problem.

    Returns:
        The build's exit status.
    """
    from coguide.cli import build_site

    handler = _MkDocsWarnings()
    # The root logger: ProperDocs logs under "properdocs", MkDocs and the plugins under "mkdocs".
    logger = logging.getLogger()
    logger.addHandler(handler)
    output = io.StringIO()
    try:
        with contextlib.redirect_stdout(output):
            status = build_site(root, site)
    finally:
        logger.removeHandler(handler)
    sys.stdout.write(output.getvalue())
    if status != 0:
        log = output.getvalue() + "\n" + "\n".join(handler.lines)
        for annotation in build_log_annotations(log, root):
            print(annotation.format())
    return status


def main(argv: Sequence[str] | None = None) -> int:
    """Run one of the commands in the module's docstring."""
    args = list(sys.argv[1:] if argv is None else argv)
    root = Path.cwd()
    if len(args) == 2 and args[0] == "build":
        return build_and_annotate(root, (root / args[1]).resolve())
    if len(args) == 2 and args[0] == "junit":
        path = Path(args[1])
        if not path.is_file():
            print(
                Annotation(level="error", message=f"no test report at {path}: the tests did not run").format()
            )
            return 0
        for annotation in junit_annotations(path.read_text(encoding="utf-8"), root):
            print(annotation.format())
        return 0
    if len(args) == 3 and args[0] == "preview":
        pages = make_preview(Path(args[1]), Path(args[2]))
        print(f"{args[2]}: {pages} page(s) linked for browsing from disk; open {args[2]}/index.html")
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
