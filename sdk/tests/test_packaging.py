"""The SDK's packaging: the .rbxm built by sdk/build_rbxm.py, the Rojo project and wally.toml."""

from __future__ import annotations

import json
import struct
import tomllib
from pathlib import Path

from sdk import build_rbxm

ROOT = Path(__file__).resolve().parents[1] / "roblox"


def test_the_rbxm_holds_the_rojo_tree_with_every_source(tmp_path):
    out = tmp_path / "AdPlatform.rbxm"
    assert build_rbxm.main(["build_rbxm", str(out)]) == 0
    data = out.read_bytes()
    assert data.startswith(b"<roblox!\x89\xff\r\n\x1a\n") and data.endswith(b"</roblox>")
    version, classes, instances, reserved = struct.unpack_from("<HiiQ", data, 14)
    files = sorted(p.name for p in (ROOT / "src").glob("*.luau"))
    assert (version, reserved) == (0, 0)
    assert classes == 2 and instances == len(files) + 2  # ModuleScripts, LocalScript
    server, client = build_rbxm.read(data)
    assert (server.class_name, server.name) == ("ModuleScript", "AdPlatform")
    assert server.source == (ROOT / "src" / "init.luau").read_text()
    assert sorted(c.name + ".luau" for c in server.children) == sorted(f for f in files if f != "init.luau")
    for child in server.children:
        assert child.class_name == "ModuleScript"
        assert child.source == (ROOT / "src" / f"{child.name}.luau").read_text()
        assert child.source.startswith("--!strict")
    assert (client.class_name, client.name) == ("LocalScript", "AdPlatformClient")
    assert [c.name for c in client.children] == ["Measure"]


def test_the_referent_encoding_round_trips():
    values = [0, 1, 2, 7, 3, -1, 1000, -5000]
    raw = build_rbxm._referents(values)
    assert build_rbxm._read_referents(raw, 0, len(values))[0] == values


def test_rojo_and_wally_describe_the_same_package():
    project = json.loads((ROOT / "default.project.json").read_text())
    tree = project["tree"]
    assert tree["ServerScriptService"]["AdPlatform"]["$path"] == "src"
    assert tree["StarterPlayer"]["StarterPlayerScripts"]["AdPlatformClient"]["$path"] == "client"
    wally = tomllib.loads((ROOT / "wally.toml").read_text())
    assert wally["package"]["name"] == "adplatform/adplatform" and wally["package"]["realm"] == "server"
    assert "src" in wally["package"]["include"]


def test_every_sdk_file_is_strict_luau():
    for path in list((ROOT / "src").glob("*")) + list((ROOT / "client").glob("*")):
        assert path.suffix == ".luau", path
        assert path.read_text().startswith("--!strict"), path
