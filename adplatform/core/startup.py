"""What a server process does once its application is loaded (``adplatform.project.wsgi``, ``adplatform.project.asgi``).

CPython's cyclic garbage collector walks every tracked object of the heap on a full (generation 2)
collection, holding the GIL. A loaded Django process holds some 130,000 objects that live as long as
it does (modules, URL patterns, models, serializers), and the full collections that come every few
tens of seconds under load took 100-270 ms here, stalling every request of that worker: the tail of
the score-update latency (bench/scores.py). :func:`settle` imports every view first (the URL
configuration), collects once, and moves what is left to the permanent generation (``gc.freeze()``),
so a full collection walks only what was allocated since. Reference counting frees objects as before;
only the cycle search skips the frozen ones.
"""

from __future__ import annotations

import gc

from django.urls import get_resolver


def settle() -> None:
    """Load what every request needs, then keep the startup heap out of the collector's walks."""
    get_resolver().reverse_dict  # noqa: B018 - imports every URL module and view, builds the reverse map
    gc.collect()
    gc.freeze()
