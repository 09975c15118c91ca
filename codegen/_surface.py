"""The tool surface: snapshots of every tool definition and the diff between two surfaces."""

from __future__ import annotations

import ast
import json
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "SurfaceDiff",
    "diff_surfaces",
    "read_generated_surface",
    "read_snapshots",
    "snapshot_of",
    "write_snapshots",
]

SNAPSHOT_KEYS = ("name", "title", "description", "inputSchema", "annotations", "scope", "service", "toolset")


def snapshot_of(tool: dict, input_schema: dict) -> dict:
    """The part of a tool definition a client sees, plus its scope, service and toolset."""
    return {
        "name": tool["name"],
        "title": tool["title"],
        "description": tool["description"],
        "inputSchema": input_schema,
        "annotations": tool["annotations"],
        "scope": tool["scope"],
        "service": tool["service"],
        "toolset": tool["toolset"],
    }


def _literal_tools(tools_py: Path) -> tuple[dict, ...]:
    """Read TOOLS from a generated tools.py without importing it (it is plain literal data)."""
    tree = ast.parse(tools_py.read_text())
    for node in tree.body:
        target = node.target if isinstance(node, ast.AnnAssign) else (
            node.targets[0] if isinstance(node, ast.Assign) else None)
        if isinstance(target, ast.Name) and target.id == "TOOLS" and node.value is not None:
            return ast.literal_eval(node.value)
    raise ValueError(f"{tools_py}: no TOOLS table")


def read_generated_surface(generated: Path) -> dict[str, dict]:
    """Every tool's snapshot, read from a generated tree (tools.py + schemas.json per service)."""
    out: dict[str, dict] = {}
    for tools_py in sorted(generated.glob("*/tools.py")):
        schemas = json.loads((tools_py.parent / "schemas.json").read_text())["schemas"]
        for tool in _literal_tools(tools_py):
            out[tool["name"]] = snapshot_of(tool, schemas[tool["name"]])
    return out


def read_snapshots(directory: Path) -> dict[str, dict]:
    if not directory.exists():
        return {}
    return {p.stem: json.loads(p.read_text()) for p in sorted(directory.glob("*.json"))}


def dumps_snapshot(snap: dict) -> str:
    return json.dumps(snap, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write_snapshots(directory: Path, surface: dict[str, dict]) -> None:
    """Rewrite the snapshot directory to hold exactly `surface`."""
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.json"):
        if stale.stem not in surface:
            stale.unlink()
    for name, snap in surface.items():
        path = directory / f"{name}.json"
        text = dumps_snapshot(snap)
        if not path.exists() or path.read_text() != text:
            path.write_text(text)


@dataclass
class SurfaceDiff:
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: dict[str, list[str]] = field(default_factory=dict)  # tool -> what changed
    breaking: dict[str, list[str]] = field(default_factory=dict)  # tool -> why it breaks clients

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed)

    def render(self, limit: int = 40) -> str:
        if self.empty:
            return "tool surface: no changes against the snapshots"
        lines = [f"tool surface: {len(self.added)} added, {len(self.removed)} removed, "
                 f"{len(self.changed)} changed, {len(self.breaking)} BREAKING"]
        for name in sorted(self.breaking)[:limit]:
            lines.append(f"  BREAKING {name}: {'; '.join(self.breaking[name])}")
        for name in self.added[:limit]:
            lines.append(f"  + {name}")
        for name in sorted(self.changed)[:limit]:
            if name not in self.breaking:
                lines.append(f"  ~ {name}: {', '.join(self.changed[name])}")
        shown = min(len(self.breaking), limit) + min(len(self.added), limit) + min(len(self.changed), limit)
        if shown < len(self.breaking) + len(self.added) + len(self.changed):
            lines.append("  ... (more; see `git diff tests/__toolsnaps__` after `make toolsnaps`)")
        return "\n".join(lines)


def _type_of(schema: dict) -> object:
    # an array's item *type* matters; a field added to its items (or their additionalProperties) does not break callers
    out = {k: schema.get(k) for k in ("type", "$ref", "format") if k in schema}
    if isinstance(schema.get("items"), dict):
        out["items"] = _type_of(schema["items"])
    return out


def diff_surfaces(old: dict[str, dict], new: dict[str, dict]) -> SurfaceDiff:
    diff = SurfaceDiff()
    diff.added = sorted(set(new) - set(old))
    diff.removed = sorted(set(old) - set(new))
    for name in diff.removed:
        diff.breaking[name] = ["tool removed"]
    for name in sorted(set(old) & set(new)):
        a, b = old[name], new[name]
        changed = [k for k in SNAPSHOT_KEYS if a.get(k) != b.get(k)]
        if not changed:
            continue
        diff.changed[name] = changed
        why: list[str] = []
        if a.get("scope") != b.get("scope"):
            why.append(f"scope {a.get('scope')} -> {b.get('scope')}")
        old_s, new_s = a.get("inputSchema") or {}, b.get("inputSchema") or {}
        old_props, new_props = old_s.get("properties") or {}, new_s.get("properties") or {}
        newly_required = set(new_s.get("required") or []) - set(old_s.get("required") or [])
        for arg in sorted(newly_required):
            why.append(f"new required argument {arg!r}")
        for arg in sorted(set(old_props) - set(new_props)):
            why.append(f"argument {arg!r} removed")
        for arg in sorted(set(old_props) & set(new_props)):
            if _type_of(old_props[arg]) != _type_of(new_props[arg]):
                why.append(f"argument {arg!r} changed type")
        if why:
            diff.breaking[name] = why
    return diff
