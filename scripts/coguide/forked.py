"""Helper processes, forked so that they read what this process holds (the sources, the model) without a copy.

On a machine with more than one processor, `coguide build` forks helpers for work that needs nothing from the
rest of the run: Frictionless's validation of the tables while the other checks run, and, once the model is
built, a share of the rendering jobs each (see `coguide.build.Generator`). A helper sends back a picklable
result; the process that forked it does its own part meanwhile and then collects it.

A helper that fails in any way (an exception, killed, cut short) sends nothing usable, and `Helper.collect`
returns None: the forking process then does that work itself, so the run ends as a run without helpers would,
with the same result or with that exception raised where it would have been. Helpers are forked only where the
system can fork and the process runs no other thread (a thread holding a lock at the fork would leave the
helper stuck on it), so never under ``coguide serve``.
"""

from __future__ import annotations

import contextlib
import gc
import os
import pickle
import signal
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

_Job = TypeVar("_Job")
_Result = TypeVar("_Result")


@dataclass(frozen=True, kw_only=True)
class ShareResult:
    """What a helper did with its share.

    Attributes:
        files: The files each job made, by job key (in the order the jobs ran).
        written: The files it wrote (new or changed).
        private_mib: The memory the helper held alone at its end (its pages copied on write and its own
            objects), in MiB; None where the system does not say.
    """

    files: dict[str, tuple[str, ...]]
    written: list[str]
    private_mib: float | None = None


def can_fork() -> bool:
    """Return True where helpers can be forked safely: a system with ``fork`` and a process of one thread."""
    return hasattr(os, "fork") and threading.active_count() == 1


def shares(jobs: Sequence[_Job], count: int) -> list[list[_Job]]:
    """Split `jobs` into `count` shares, dealing them out in turn so that each share has a like mix of kinds."""
    return [list(jobs[i::count]) for i in range(count)]


def private_mib() -> float | None:
    """Return the memory this process holds alone (private pages, from ``/proc/self/smaps_rollup``), in MiB."""
    try:
        text = Path("/proc/self/smaps_rollup").read_text()
    except OSError:
        return None
    kib = sum(
        int(line.split()[1])
        for line in text.splitlines()
        if line.startswith(("Private_Clean:", "Private_Dirty:"))
    )
    return kib / 1024


class Helper(Generic[_Result]):
    """A forked process doing `work`; `collect` returns what it returned, or None when it failed.

    Args:
        work: What the helper does (in the helper); it returns a picklable result.
    """

    def __init__(self, work: Callable[[], _Result]) -> None:
        read, write = os.pipe()
        gc.freeze()  # the helper's collector then leaves the shared objects (and their pages) untouched
        pid = os.fork()
        if pid == 0:  # the helper: never returns
            os.close(read)
            _run_helper(work, write)
        gc.unfreeze()
        os.close(write)
        self.pid = pid
        self._read = read
        self._done = False

    def collect(self, kind: type[_Result]) -> _Result | None:
        """Wait for the helper's result: None when it raised, was killed or sent something not of `kind`."""
        chunks = []
        try:
            while chunk := os.read(self._read, 1 << 20):
                chunks.append(chunk)
        finally:
            os.close(self._read)
            _, status = os.waitpid(self.pid, 0)
            self._done = True
        if not os.WIFEXITED(status) or os.WEXITSTATUS(status) != 0 or not chunks:
            return None
        try:
            result = pickle.loads(b"".join(chunks))
        except Exception:
            return None
        return result if isinstance(result, kind) else None

    def stop(self) -> None:
        """End a helper not collected (the run stopped early): kill it and wait for it."""
        if self._done:
            return
        self._done = True
        os.close(self._read)
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)


def _run_helper(work: Callable[[], object], write: int) -> None:
    """The helper's whole life: do `work`, send its result through `write` and exit, whatever happens."""
    code = 1
    try:
        signal.signal(signal.SIGINT, signal.SIG_DFL)  # Ctrl-C reaches the whole group: end at once
        data = pickle.dumps(work())
        view = memoryview(data)
        while view:
            view = view[os.write(write, view) :]
        code = 0
    finally:  # an exception ends the helper without a word: the forking process renders the share again
        os._exit(code)
