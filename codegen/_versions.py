"""Merge every version of one service's model (ZPA `v1` and `v2`) into one set of operations and shapes.

A later version's operation keeps its name unless an earlier version already uses it; then it is
prefixed with its version (`V2GetLss`, so the tool is `zpa_v2_get_lss`). A later version's shape
that differs from an earlier shape of the same name is suffixed (`IdpV2`), and so is every shape
that refers to a renamed one, so each operation keeps exactly its own version's schemas.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

from ._sources import ModelError, ServiceModels

__all__ = ["ModelOperation", "merge_versions", "resource_index"]


@dataclass(frozen=True)
class ModelOperation:
    """One operation of one model version, under the name it has in the merged document."""

    name: str
    model_name: str  # its name in the model file (differs from `name` when a version prefix was added)
    version: int
    op: dict
    paginator: dict | None
    resource: dict | None  # {type, action, id_param?, id_field?} from that version's resource metadata
    source: str  # the model member it came from, for `x-oneapi-source`

    @property
    def method(self) -> str:
        return self.op["http"]["method"].upper()

    @property
    def uri(self) -> str:
        return self.op["http"]["requestUri"]


def _shape_refs(shape: dict) -> set[str]:
    refs = {m["shape"] for m in shape.get("members", {}).values()}
    for key in ("member", "key", "value"):
        if key in shape:
            refs.add(shape[key]["shape"])
    return refs


def _renamed_shapes(shapes: dict[str, dict], merged: dict[str, dict], version: int) -> dict[str, str]:
    """Which of this version's shapes need a version suffix to sit beside the merged ones."""
    renamed = {n for n, s in shapes.items() if n in merged and merged[n] != s}
    while True:  # a shape that refers to a renamed shape is different too
        more = {n for n, s in shapes.items() if n not in renamed and _shape_refs(s) & renamed}
        if not more:
            break
        renamed |= more
    out = {}
    for name in sorted(renamed):
        new = f"{name}V{version}"
        if new in merged or new in shapes:
            raise ModelError(f"shape {name!r} of version {version} cannot be renamed: {new!r} exists")
        out[name] = new
    return out


def _rewrite(node: object, renames: dict[str, str]) -> object:
    if isinstance(node, dict):
        return {k: (renames.get(v, v) if k == "shape" and isinstance(v, str) else _rewrite(v, renames))
                for k, v in node.items()}
    if isinstance(node, list):
        return [_rewrite(v, renames) for v in node]
    return node


def resource_index(resources: dict) -> dict[str, dict]:
    """operation name -> {type, action, identifier...} from one version's resource metadata."""
    index: dict[str, dict] = {}
    for rtype in sorted(resources.get("resources", {})):
        res = resources["resources"][rtype]
        for action in sorted(res.get("actions", {})):
            spec = res["actions"][action]
            op = spec["request"]["operation"]
            entry: dict = {"type": rtype, "action": action}
            ident = [p["target"] for p in spec["request"].get("params", []) if p["source"] == "identifier"]
            if ident:
                entry["id_param"] = ident[0]
            produced = (spec.get("resource") or {}).get("identifiers") or []
            from_response = [i.get("path", i["target"]) for i in produced if i.get("source") == "response"]
            if action == "create" and from_response:
                entry["id_field"] = from_response[0]
            index.setdefault(op, entry)
    return index


def _rewrite_type(entry: dict | None, renames: dict[str, str]) -> dict | None:
    # a resource type names its schema (see _schema.request_schemas), so it follows the shape's rename
    return {**entry, "type": renames.get(entry["type"], entry["type"])} if entry else None


def merge_versions(service: str, versions: tuple[ServiceModels, ...]) -> tuple[list[ModelOperation], dict]:
    """All operations of all versions (sorted by merged name) and the shapes they use."""
    shapes: dict[str, dict] = {}
    operations: dict[str, ModelOperation] = {}
    for models in sorted(versions, key=lambda m: m.version):
        source = f"zssdk/zscore/data/{service}/v{models.version}/service-1.json"
        renames = _renamed_shapes(models.model["shapes"], shapes, models.version)
        for name, shape in models.model["shapes"].items():
            shapes.setdefault(renames.get(name, name), _rewrite(copy.deepcopy(shape), renames))
        paginators = models.paginators.get("pagination", {})
        resources = resource_index(models.resources)
        for model_name, op in models.model["operations"].items():
            name = model_name if model_name not in operations else f"V{models.version}{model_name}"
            if name in operations:
                raise ModelError(f"{source}: operation {model_name!r} collides with {name!r} of an earlier version")
            operations[name] = ModelOperation(
                name=name, model_name=model_name, version=models.version,
                op=_rewrite(op, renames), paginator=paginators.get(model_name),
                resource=_rewrite_type(resources.get(model_name), renames), source=source,
            )
    return [operations[n] for n in sorted(operations)], shapes
