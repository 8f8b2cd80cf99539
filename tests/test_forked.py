"""Forked helpers: a result comes back whole, a failed helper gives None, and a helper cut short is reaped."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from coguide.forked import Helper, can_fork, private_mib, shares

pytestmark = pytest.mark.skipif(
    not hasattr(os, "fork"), reason="helpers are forked, and this system cannot fork"
)


def no_children() -> bool:
    """Return True when this process has no child left to reap."""
    try:
        os.waitpid(-1, os.WNOHANG)
    except ChildProcessError:
        return True
    return False


def test_a_helper_sends_back_what_it_returned_and_its_changes_stay_its_own():
    held = {"value": 1}

    def work() -> dict[str, object]:
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
    def work() -> object:
        if how == "raises":
            raise ValueError("a bug in a job")
        if how == "exits":
            os._exit(0)  # ends without sending anything
        if how == "killed":
            os.kill(os.getpid(), signal.SIGKILL)
        return ["not", "a", "dict"]

    assert Helper(work).collect(dict) is None
    assert no_children()


def test_stop_ends_a_helper_still_at_work_at_once():
    helper = Helper(lambda: time.sleep(60))
    start = time.perf_counter()
    helper.stop()
    assert time.perf_counter() - start < 10
    assert no_children()
    helper.stop()  # a second stop does nothing


def test_no_helper_is_forked_while_another_thread_runs():
    assert threading.active_count() == 1, "a thread from an earlier test is still running"
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
