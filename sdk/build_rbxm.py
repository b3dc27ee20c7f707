"""Build the Roblox SDK as a binary model file (``.rbxm``), in pure Python.

``python -m sdk.build_rbxm [out.rbxm]`` (``make sdk-rbxm``) writes ``sdk/roblox/dist/AdPlatform.rbxm``: a
ModuleScript ``AdPlatform`` (``src/init.luau``) with one child ModuleScript per other file of ``src/``, and a
LocalScript ``AdPlatformClient`` (``client/init.client.luau``) with its ``Measure`` module: the tree Rojo
builds from ``default.project.json``. Drag the file into Studio, then move ``AdPlatform`` to
ServerScriptService and ``AdPlatformClient`` to StarterPlayer > StarterPlayerScripts.

The format is Roblox's binary model format, version 0 (as documented by rbx-dom's ``rbx_binary``): a header,
``INST`` chunks (one per class), ``PROP`` chunks (``Name`` and ``Source`` as strings), one ``PRNT`` chunk and
``END``; chunks are written uncompressed, which the format allows. :func:`read` parses such a file back.
"""

from __future__ import annotations

import struct
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent / "roblox"
MAGIC = b"<roblox!\x89\xff\r\n\x1a\n"
STRING = 0x01


@dataclass
class Node:
    class_name: str
    name: str
    source: str
    children: list[Node] = field(default_factory=list)


def sdk_tree(root: Path = ROOT) -> list[Node]:
    """The SDK's instances: the server ModuleScript and the client LocalScript, with their children."""
    src, client = root / "src", root / "client"
    server = Node("ModuleScript", "AdPlatform", (src / "init.luau").read_text())
    for path in sorted(src.glob("*.luau")):
        if path.name != "init.luau":
            server.children.append(Node("ModuleScript", path.stem, path.read_text()))
    local = Node("LocalScript", "AdPlatformClient", (client / "init.client.luau").read_text())
    for path in sorted(client.glob("*.luau")):
        if not path.name.startswith("init."):
            local.children.append(Node("ModuleScript", path.stem, path.read_text()))
    return [server, local]


def _string(text: str) -> bytes:
    data = text.encode("utf-8")
    return struct.pack("<I", len(data)) + data


def _interleave_i32(values: list[int]) -> bytes:
    rotated = [((v << 1) ^ (v >> 31)) & 0xFFFFFFFF for v in values]
    raw = [struct.pack(">I", v) for v in rotated]
    return bytes(raw[i][b] for b in range(4) for i in range(len(raw)))


def _referents(values: list[int]) -> bytes:
    deltas, previous = [], 0
    for v in values:
        deltas.append(v - previous)
        previous = v
    return _interleave_i32(deltas)


def _chunk(name: bytes, data: bytes) -> bytes:
    return name + struct.pack("<III", 0, len(data), 0) + data  # compressed length 0: stored as is


def build(nodes: list[Node]) -> bytes:
    flat: list[tuple[Node, int]] = []  # (node, parent referent)

    def walk(node: Node, parent: int) -> None:
        ref = len(flat)
        flat.append((node, parent))
        for child in node.children:
            walk(child, ref)

    for node in nodes:
        walk(node, -1)
    classes = sorted({node.class_name for node, _ in flat})
    chunks = []
    for class_id, class_name in enumerate(classes):
        refs = [i for i, (node, _) in enumerate(flat) if node.class_name == class_name]
        chunks.append(_chunk(b"INST", struct.pack("<I", class_id) + _string(class_name) + b"\x00"
                             + struct.pack("<I", len(refs)) + _referents(refs)))  # fmt: skip
    for class_id, class_name in enumerate(classes):
        members = [node for node, _ in flat if node.class_name == class_name]
        for prop in ("Name", "Source"):
            values = b"".join(_string(getattr(node, prop.lower())) for node in members)
            chunks.append(_chunk(b"PROP", struct.pack("<I", class_id) + _string(prop) + bytes([STRING]) + values))
    children = list(range(len(flat)))
    parents = [parent for _, parent in flat]
    chunks.append(_chunk(b"PRNT", b"\x00" + struct.pack("<I", len(flat)) + _referents(children) + _referents(parents)))
    chunks.append(_chunk(b"END\x00", b"</roblox>"))
    header = MAGIC + struct.pack("<HiiQ", 0, len(classes), len(flat), 0)
    return header + b"".join(chunks)


# --------------------------------------------------------------------------- reading (for checks and tests)


def _read_string(data: bytes, at: int) -> tuple[str, int]:
    (length,) = struct.unpack_from("<I", data, at)
    return data[at + 4 : at + 4 + length].decode("utf-8"), at + 4 + length


def _read_referents(data: bytes, at: int, count: int) -> tuple[list[int], int]:
    raw = data[at : at + 4 * count]
    values, total = [], 0
    for i in range(count):
        word = int.from_bytes(bytes(raw[b * count + i] for b in range(4)), "big")
        total += (word >> 1) ^ -(word & 1)
        values.append(total)
    return values, at + 4 * count


def read(data: bytes) -> list[Node]:
    """Parse a model written by :func:`build` (uncompressed chunks, string properties) back into nodes."""
    if not data.startswith(MAGIC):
        raise ValueError("not a binary Roblox model")
    _version, _classes, count, _ = struct.unpack_from("<HiiQ", data, len(MAGIC))
    at = len(MAGIC) + 18
    class_of: dict[int, str] = {}
    members: dict[int, list[int]] = {}
    props: dict[int, dict[str, str]] = {}
    parent_of: dict[int, int] = {}
    while at < len(data):
        name = data[at : at + 4]
        compressed, length, _ = struct.unpack_from("<III", data, at + 4)
        if compressed:
            raise ValueError("compressed chunks are not read here")
        body = data[at + 16 : at + 16 + length]
        at += 16 + length
        if name == b"INST":
            (class_id,) = struct.unpack_from("<I", body, 0)
            class_of[class_id], pos = _read_string(body, 4)
            (n,) = struct.unpack_from("<I", body, pos + 1)
            members[class_id], _ = _read_referents(body, pos + 5, n)
        elif name == b"PROP":
            (class_id,) = struct.unpack_from("<I", body, 0)
            prop, pos = _read_string(body, 4)
            pos += 1
            for ref in members[class_id]:
                value, pos = _read_string(body, pos)
                props.setdefault(ref, {})[prop] = value
        elif name == b"PRNT":
            (n,) = struct.unpack_from("<I", body, 1)
            kids, pos = _read_referents(body, 5, n)
            parents, _ = _read_referents(body, pos, n)
            parent_of = dict(zip(kids, parents, strict=True))
        elif name == b"END\x00":
            break
    nodes = {}
    for class_id, refs in members.items():
        for ref in refs:
            nodes[ref] = Node(class_of[class_id], props[ref]["Name"], props[ref].get("Source", ""))
    roots: list[Node] = []
    for ref in sorted(nodes):
        parent = parent_of.get(ref, -1)
        (roots if parent == -1 else nodes[parent].children).append(nodes[ref])
    assert len(nodes) == count
    return roots


def main(argv: list[str]) -> int:
    out = Path(argv[1]) if len(argv) > 1 else ROOT / "dist" / "AdPlatform.rbxm"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(build(sdk_tree()))
    print(f"wrote {out} ({out.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
