"""Runs a Luau scenario (sdk/tests/luau/*.luau) in pluau with the engine model and the SDK, unchanged.

Started by ``sdk/tests/test_luau_sdk.py`` with the SDK venv's Python (pluau needs Python 3.12+):
``python luau_runner.py <scenario.luau> <config json>``. The scenario talks to the platform through the
engine's HttpService (real HTTP) and to the test through ``host.call`` (one JSON line out on stdout, one
line back on stdin). The last stdout line is ``{"done": <the scenario's result>}``. Logs go to stderr.
"""

from __future__ import annotations

import json
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pluau

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def text(value) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, pluau.String):
        return bytes(value.as_bytes()).decode("utf-8")
    raise TypeError(f"expected a string, got {type(value).__name__}")


def to_py(value):
    if isinstance(value, pluau.String):
        return text(value)
    if isinstance(value, pluau.Table):
        items = list(value)
        if not items:
            return []  # Roblox's JSONEncode({}) is "[]"
        keys = [k for k, _ in items]
        if all(isinstance(k, int) and not isinstance(k, bool) for k in keys) and sorted(keys) == list(
            range(1, len(keys) + 1)
        ):
            ordered = dict(items)
            return [to_py(ordered[i]) for i in range(1, len(keys) + 1)]
        # a table with both array and string keys loses the array part in Roblox's encoder
        return {text(k): to_py(v) for k, v in items if not isinstance(k, int | float)}
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    if value is None or isinstance(value, bool | int | float | str):
        return value
    raise TypeError(f"cannot encode {type(value).__name__} as JSON")


def _returns(value):
    """pluau reads a callback's tuple as several results; anything else is one."""
    return value if isinstance(value, tuple) else (value,)


class Host:
    def __init__(self, lua: pluau.Lua, config: dict):
        self.lua = lua
        self.config = config

    def to_lua(self, value):
        if isinstance(value, dict):
            table = self.lua.create_table()
            for k, v in value.items():
                if v is not None:
                    table.set(k, self.to_lua(v))
            return table
        if isinstance(value, list):
            table = self.lua.create_table()
            for i, v in enumerate(value, start=1):
                table.set(i, self.to_lua(v))
            return table
        return value

    def table(self):
        lua = self.lua
        functions = {
            "http": self.http,
            "json_encode": lambda args: json.dumps(to_py(args[0]), separators=(",", ":")),
            "json_decode": lambda args: self.to_lua(json.loads(text(args[0]))),
            "guid": lambda args: str(uuid.uuid4()).upper(),
            "now": lambda args: time.time(),
            "read": lambda args: (ROOT / text(args[0])).read_text(),
            "load": lambda args: lua.load_chunk(text(args[0]), name=text(args[1]), env=args[2]),
            "log": lambda args: print(text(args[0]), file=sys.stderr),
            "call": self.call,
            "config": lambda args: self.to_lua(self.config),
            "files": lambda args: self.to_lua(sorted(p.name for p in (ROOT / text(args[0])).iterdir())),
        }
        table = lua.create_table()
        for name, fn in functions.items():
            table.set(name, lua.create_function(lambda _lua, args, fn=fn: _returns(fn(args))))
        return table

    def http(self, args):
        url, method, headers, body = text(args[0]), text(args[1]), args[2], args[3]
        data = text(body).encode() if body is not None else None
        request = urllib.request.Request(url, data=data, method=method)
        for k, v in headers:
            request.add_header(text(k), text(v))
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                status, payload, got = response.status, response.read(), response.headers
        except urllib.error.HTTPError as exc:
            status, payload, got = exc.code, exc.read(), exc.headers
        except (urllib.error.URLError, OSError) as exc:
            print(f"http failed: {exc}", file=sys.stderr)
            return 0, "", self.lua.create_table()
        out = self.lua.create_table()
        for k, v in got.items():
            out.set(k, v)
        return status, payload.decode("utf-8"), out

    def call(self, args):
        """One request to the test process: a JSON line out, a JSON line back."""
        sys.stdout.write(json.dumps({"call": to_py(args[0])}) + "\n")
        sys.stdout.flush()
        line = sys.stdin.readline()
        if not line:
            raise RuntimeError("the test process went away")
        return self.to_lua(json.loads(line))


def main() -> int:
    scenario, config = sys.argv[1], json.loads(sys.argv[2])
    lua = pluau.Lua()
    host = Host(lua, config)
    engine = lua.load_chunk((HERE / "luau" / "engine.luau").read_text(), name="@engine.luau")(host.table())[0]
    source = (HERE / "luau" / scenario).read_text()
    run = lua.load_chunk(source, name="@" + scenario, env=engine.get("env"))
    result = run(engine, host.table())
    sys.stdout.write(json.dumps({"done": to_py(result[0]) if result else None}) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
