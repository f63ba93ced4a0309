"""Python's garbage collector run by the GUI thread only.

The cyclic collector runs in whichever thread happens to allocate when a generation fills up.
If that is a worker thread (the one that reads the training process's reports, or trains on a
thread) and the garbage holds Qt objects (a panel rebuilt for a new architecture, a closed
dialog), Qt destroys them outside the GUI thread: the suite once hung for good that way, the
worker inside ``QObject::~QObject`` waiting for the interpreter while the GUI thread, holding
it, waited for that object's mutex. So automatic collection is turned off and a timer of the GUI
thread collects instead, a generation whenever the collector's own thresholds say it would have
(pyqtgraph's ``GarbageCollector``, made once per process).
"""
from __future__ import annotations

import gc

INTERVAL = 1.0  # seconds between two looks at the collector's counts

_collector = None


def collect_in_gui_thread():
    """Turn automatic collection off and collect from a timer of the calling (GUI) thread from
    now on; once per process, later calls return the same collector."""
    global _collector
    if _collector is None:
        from pyqtgraph.util.garbage_collector import GarbageCollector
        _collector = GarbageCollector(interval=INTERVAL)
    gc.disable()  # again, should anything have turned it back on
    return _collector
