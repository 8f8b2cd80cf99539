"""Helper processes, forked so that they read what this process holds (the sources, the model) without a copy.

On a machine with more than one processor, `coguide build` forks helpers for work that needs nothing from the
rest of the run: Frictionless's validation of the tables while the other checks run, and, once the model is
built, a share of the rendering jobs each (see `coguide.build.Generator`). A helper sends back a picklable
result; the process that forked it does its own part meanwhile and then collects it.

A helper that fails in any way (an exception, killed, cut short) sends nothing usable, and `Helper.collect`
returns None: the forking process then does that work itself, so the run ends as a run without helpers would,
with the same result or with that exception raised where it would have been. A helper notes each file it is
about to write in a journal of its own (`Helper.noted`), which the forking process reads even when the helper
failed or was stopped, so that no file a helper wrote goes unrecorded. A helper dies with the process that
forked it (on Linux; elsewhere it ends at its next job). Helpers are forked only where the system can fork and
the process runs no other thread, Python's or any other (a thread holding a lock at the fork would leave the
helper stuck on it), so never under ``coguide serve``.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import os
import pickle
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Generic, TypeVar

_Job = TypeVar("_Job")
_Result = TypeVar("_Result")


def can_fork() -> bool:
    """Return True where helpers can be forked safely: a system with ``fork`` and a process of one thread.

    Threads started outside Python count too where the system lists them (``/proc/self/task``). Never on
    macOS, where system libraries a process has loaded may crash a forked child (Python's own
    ``multiprocessing`` stopped forking there by default for that reason).
    """
    if not hasattr(os, "fork") or sys.platform == "darwin" or threading.active_count() != 1:
        return False
    # A Python thread just joined may still be listed for a moment while it ends: wait a little for it.
    for _ in range(20):
        try:
            if len(os.listdir("/proc/self/task")) == 1:
                return True
        except OSError:
            return True
        time.sleep(0.005)
    return False


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


#: What a helper's work is given: a function that notes a line in the helper's journal before the work does it.
Note = Callable[[str], None]


class Helper(Generic[_Result]):
    """A forked process doing `work`; `collect` returns what it returned, or None when it failed.

    Use `start` (which returns None when the system refuses a fork) rather than the constructor.

    Attributes:
        pid: The helper's process id.
        noted: The lines the helper noted in its journal, once it has ended (collected or stopped).

    Args:
        work: What the helper does (in the helper), given a function that notes a line in its journal; it
            returns a picklable result.
        journal: Give the helper a journal (False: a helper that notes nothing gets none, and its `note` raises).
    """

    def __init__(self, work: Callable[[Note], _Result], *, journal: bool = True) -> None:
        handle, path = (
            tempfile.mkstemp(prefix="coguide-helper-", suffix=".journal") if journal else (-1, None)
        )
        self._journal = None if path is None else Path(path)
        self.noted: list[str] = []
        self._status: int | None = None
        self._read: int | None = None
        parent = os.getpid()
        try:
            read, write = os.pipe()
        except OSError:
            self._drop_journal(handle)
            raise
        gc.freeze()  # the helper's collector then leaves the shared objects (and their pages) untouched
        try:
            pid = os.fork()
        except OSError:
            gc.unfreeze()
            for fd in (read, write):
                os.close(fd)
            self._drop_journal(handle)
            raise
        if pid == 0:  # the helper: never returns
            os.close(read)
            _run_helper(work, write, handle, parent)
        gc.unfreeze()
        os.close(write)
        if handle >= 0:
            os.close(handle)
        self.pid = pid
        self._read = read

    def _drop_journal(self, handle: int) -> None:
        if handle >= 0:
            os.close(handle)
        if self._journal is not None:
            self._journal.unlink(missing_ok=True)

    @classmethod
    def start(cls, work: Callable[[Note], _Result], *, journal: bool = True) -> Helper[_Result] | None:
        """Fork a helper doing `work`, or return None when the system refuses (too many processes or files)."""
        try:
            return cls(work, journal=journal)
        except OSError:
            return None

    def collect(self, kind: type[_Result]) -> _Result | None:
        """Wait for the helper's result: None when it raised, was killed or sent something not of `kind`.

        Interrupted (Ctrl-C), it stops the helper before the interruption goes on.
        """
        chunks = []
        try:
            while self._read is not None and (chunk := os.read(self._read, 1 << 20)):
                chunks.append(chunk)
        except BaseException:
            self.stop()
            raise
        status = self._end(kill=False)
        if not os.WIFEXITED(status) or os.WEXITSTATUS(status) != 0 or not chunks:
            return None
        try:
            result = pickle.loads(b"".join(chunks))
        except Exception:
            return None
        return result if isinstance(result, kind) else None

    def stop(self) -> None:
        """End the helper if it has not ended (the run stopped early): kill it, wait for it, read its journal."""
        self._end(kill=True)

    def _end(self, *, kill: bool) -> int:
        """Close the pipe, kill the helper if asked, wait for it (once) and read its journal; return its status."""
        if self._read is not None:
            read, self._read = self._read, None
            os.close(read)
        if self._status is None:
            if kill:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(self.pid, signal.SIGKILL)
            _, self._status = os.waitpid(self.pid, 0)
            if self._journal is not None:
                try:
                    self.noted = self._journal.read_text(encoding="utf-8").splitlines()
                except OSError:
                    self.noted = []
                self._journal.unlink(missing_ok=True)
        return self._status


#: prctl's request to be sent a signal when the parent process ends (linux/prctl.h).
_PR_SET_PDEATHSIG = 1


def _die_with(parent: int) -> None:
    """Have this helper killed when `parent` ends (Linux), and end now if it already has."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(Exception):
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:
        os._exit(1)


def _run_helper(work: Callable[[Note], object], write: int, journal: int, parent: int) -> None:
    """The helper's whole life: do `work`, send its result through `write` and exit, whatever happens."""
    code = 1
    try:
        signal.signal(signal.SIGINT, signal.SIG_DFL)  # Ctrl-C reaches the whole group: end at once
        _die_with(parent)

        def note(line: str) -> None:
            if os.getppid() != parent:  # the parent is gone (a system without prctl)
                os._exit(1)
            if journal < 0:
                raise RuntimeError("this helper was started without a journal")
            os.write(journal, (line + "\n").encode("utf-8"))

        data = pickle.dumps(work(note))
        view = memoryview(data)
        while view:
            view = view[os.write(write, view) :]
        code = 0
    finally:  # an exception ends the helper without a word: the forking process does the work again
        os._exit(code)
