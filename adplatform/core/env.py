"""Settings read from environment variables: django-environ does the reading, this wrapper keeps it strict.

django-environ (``environ.Env``) reads the local ``.env`` file (quotes, escapes, ``export``, comments; real
environment variables win) and casts integers, booleans and lists. What it does not do, this module adds:

* a bad value fails at start-up with ``ImproperlyConfigured`` naming the variable (django-environ takes any
  unknown word for ``False`` and cleans ``"1.5s"`` into ``1.5``, so floats are Python's own ``float``);
* an unset or empty variable takes the default (an empty ``DB_CONN_MAX_AGE=`` is not an error);
* values are taken literally: django-environ's ``$OTHER_VARIABLE`` references are not followed (a secret that
  starts with ``$`` stays itself, and no error message quotes it);
* list items are stripped and empty ones dropped (``"a, b,,"`` is ``["a", "b"]``).

Error messages name the variable and quote the value only for numbers and booleans, never for strings.
"""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from adplatform.core.ratelimit import FixedWindow

_TRUE = {"1", "true", "yes", "on", *environ.Env.BOOLEAN_TRUE_STRINGS}
_FALSE = {"0", "false", "no", "off", "n", ""}
_NAME = re.compile(r"[A-Za-z_0-9]+")


def _raw(name: str) -> str | None:
    """The variable's value, or None when it is unset or blank."""
    raw = os.environ.get(name)
    return None if raw is None or raw.strip() == "" else raw


def env_str(name: str, default: str = "") -> str:
    raw = os.environ.get(name)
    return default if raw is None else environ.Env.parse_value(raw, str)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    word = raw.strip().lower()
    if word not in _TRUE and word not in _FALSE:
        raise ImproperlyConfigured(f"{name} must be a boolean (true/false), got {raw!r}")
    return bool(word) and environ.Env.parse_value(word, bool)


def env_int(name: str, default: int) -> int:
    raw = _raw(name)
    if raw is None:
        return default
    try:
        return environ.Env.parse_value(raw.strip(), int)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}") from exc


def env_float(name: str, default: float) -> float:
    raw = _raw(name)
    if raw is None:
        return default
    try:  # Python's own: django-environ's float drops every character that is not a digit ("1e3" is 13.0)
        return float(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be a number, got {raw!r}") from exc


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return list(default or [])
    return [item.strip() for item in environ.Env.parse_value(raw, list) if item.strip()]


def env_rate(name: str, default: str) -> str:
    """A rate such as ``"120/min"`` (:meth:`FixedWindow.parse`), refused at start-up when malformed."""
    raw = _raw(name)
    if raw is None:
        return default
    try:
        FixedWindow.parse(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be a rate such as 120/min or 10/5s, got {raw!r}") from exc
    return raw.strip()


def load_dotenv(path: str | Path) -> None:
    """Read ``KEY=value`` lines from a local ``.env`` file (if there is one); real environment variables win.

    Lines are tidied first (``KEY = value`` and indented lines are read as before django-environ) and lines
    that are no assignment are skipped: django-environ would log them whole, and such a line may be a secret.
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        return
    lines = []
    for line in text.splitlines():
        key, sep, value = line.strip().partition("=")
        key = key.strip().removeprefix("export ").strip()
        if sep and _NAME.fullmatch(key):
            lines.append(f"{key}={value.strip()}")
    environ.Env.read_env(io.StringIO("\n".join(lines)), overwrite=False)
