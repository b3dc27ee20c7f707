"""Server processes load every view and freeze the startup heap out of the garbage collector's walks."""

from __future__ import annotations

import gc
import importlib

from adplatform.core import startup


def test_settle_freezes_what_the_loaded_process_holds():
    gc.unfreeze()
    try:
        startup.settle()
        # the whole loaded application (modules, URL patterns, views): tens of thousands of objects
        assert gc.get_freeze_count() > 10_000
        assert gc.get_count()[2] == 0  # collected just before the freeze: no garbage is kept for good
    finally:
        gc.unfreeze()


def test_both_server_entry_points_settle_after_loading(monkeypatch):
    calls = []
    import adplatform.project.asgi
    import adplatform.project.wsgi

    monkeypatch.setattr(startup, "settle", lambda: calls.append("settled"))
    importlib.reload(adplatform.project.wsgi)
    importlib.reload(adplatform.project.asgi)
    assert calls == ["settled", "settled"]
    assert callable(adplatform.project.wsgi.application) and callable(adplatform.project.asgi.application)
