"""Forked helpers: a result comes back whole, a failed helper gives None, and a helper cut short is reaped."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from pathlib import Path

import pytest

from coguide.forked import Helper, can_fork, private_mib, shares
from conftest import no_children

pytestmark = [
    pytest.mark.skipif(
        not hasattr(os, "fork") or sys.platform == "darwin",
        reason="helpers are forked only on Linux and the BSDs",
    ),
    pytest.mark.usefixtures("alone"),
]


def test_a_helper_sends_back_what_it_returned_and_its_changes_stay_its_own():
    held = {"value": 1}

    def work(_note) -> dict[str, object]:
        held["value"] = 2  # the helper's copy only
        return {"seen": held["value"], "pid": os.getpid(), "big": "x" * 300_000}

    helper = Helper(work)
    result = helper.collect(dict)
    assert result is not None
    assert result["seen"] == 2 and result["pid"] != os.getpid()
    assert len(result["big"]) == 300_000  # more than a pipe holds at once
    assert held["value"] == 1
    assert no_children()


@pytest.mark.parametrize("how", ["raises", "exits", "killed", "wrong kind"])
def test_a_helper_that_fails_gives_none(how):
    def work(_note) -> object:
        if how == "raises":
            raise ValueError("a bug in a job")
        if how == "exits":
            os._exit(0)  # ends without sending anything
        if how == "killed":
            os.kill(os.getpid(), signal.SIGKILL)
        return ["not", "a", "dict"]

    assert Helper(work).collect(dict) is None
    assert no_children()


def test_a_helper_started_without_a_journal_makes_no_file_and_cannot_note(tmp_path, monkeypatch):
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    quiet = Helper.start(lambda _note: {"done": True}, journal=False)
    assert quiet is not None
    assert list(tmp_path.iterdir()) == []  # no journal while it runs
    assert quiet.collect(dict) == {"done": True} and quiet.noted == []
    noting = Helper.start(lambda note: note("a.md") or {"done": True}, journal=False)
    assert noting is not None and noting.collect(dict) is None  # its note raised, so it sent nothing
    journaled = Helper.start(lambda note: note("a.md") or {"done": True})
    assert journaled is not None and len(list(tmp_path.iterdir())) == 1
    assert journaled.collect(dict) == {"done": True} and journaled.noted == ["a.md"]
    assert list(tmp_path.iterdir()) == []
    assert no_children()


def test_stop_ends_a_helper_still_at_work_at_once():
    helper = Helper(lambda _note: time.sleep(60))
    start = time.perf_counter()
    helper.stop()
    assert time.perf_counter() - start < 10
    assert no_children()
    helper.stop()  # a second stop does nothing


def test_no_helper_is_forked_while_another_thread_runs():
    assert can_fork()
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert not can_fork()
    finally:
        stop.set()
        thread.join()
    assert can_fork()


def test_jobs_are_dealt_out_in_turn_and_none_is_lost():
    dealt = shares(list(range(7)), 3)
    assert dealt == [[0, 3, 6], [1, 4], [2, 5]]
    assert shares(list(range(3)), 1) == [[0, 1, 2]]


def test_private_memory_is_read_where_the_system_reports_it():
    mib = private_mib()
    if os.path.exists("/proc/self/smaps_rollup"):
        assert mib is not None and mib > 1
    else:
        assert mib is None


@pytest.mark.parametrize("how", ["returns", "raises", "stopped"])
def test_what_a_helper_noted_is_read_however_it_ended(how):
    def work(note) -> list[str]:
        note("terms/client.md")
        note("concepts/co-production.md")
        if how == "raises":
            raise ValueError("a bug")
        if how == "stopped":
            time.sleep(60)
        return []

    helper = Helper.start(work)
    assert helper is not None
    if how == "stopped":
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not helper._journal.read_text():
            time.sleep(0.01)
        time.sleep(0.05)
        helper.stop()
    else:
        assert (helper.collect(list) is None) == (how == "raises")
    assert helper.noted == ["terms/client.md", "concepts/co-production.md"]
    assert not helper._journal.exists()
    assert no_children()


def test_a_fork_the_system_refuses_gives_no_helper(monkeypatch):
    import gc

    def refused() -> int:
        raise BlockingIOError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", refused)
    assert Helper.start(lambda _note: 1) is None
    assert gc.get_freeze_count() == 0


def test_a_helper_dies_with_the_process_that_forked_it(tmp_path):
    import subprocess

    # A process forks a helper that would work for a minute, then is killed: the helper must not outlive it.
    script = tmp_path / "parent.py"
    pid_file = tmp_path / "helper.pid"
    script.write_text(
        "import os, time, sys\n"
        "from coguide.forked import Helper\n"
        f"h = Helper(lambda note: time.sleep(60))\n"
        f"open({str(pid_file)!r}, 'w').write(str(h.pid))\n"
        "time.sleep(60)\n",
        encoding="utf-8",
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    parent = subprocess.Popen([sys.executable, str(script)], env=env)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not (pid_file.is_file() and pid_file.read_text()):
            time.sleep(0.02)
        helper = int(pid_file.read_text())
        parent.kill()
        parent.wait(timeout=30)
        deadline, state = time.monotonic() + 10, "running"
        while time.monotonic() < deadline:
            try:
                state = Path(f"/proc/{helper}/stat").read_text().split(")")[-1].split()[0]
            except OSError:
                state = "gone"
            if state in ("gone", "Z"):  # ended (a zombie waits for init to reap it)
                break
            time.sleep(0.02)
        assert state in ("gone", "Z"), "the helper outlived its parent"
    finally:
        parent.kill()
