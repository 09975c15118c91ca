"""The tool-surface diff that `make generate` prints, with breaking changes flagged."""

from __future__ import annotations

import copy

from oneapi_mcp.codegen._surface import diff_surfaces


def _tool(tool_name: str, **schema_props) -> dict:
    return {
        "name": tool_name, "title": tool_name, "description": "Does a thing.", "scope": "read", "service": "zia",
        "toolset": "zia.users", "annotations": {},
        "inputSchema": {"type": "object", "properties": dict(schema_props) or {"page": {"type": "integer"}}},
    }


def test_added_and_removed_tools_are_listed_and_a_removal_is_breaking():
    diff = diff_surfaces({"a": _tool("a"), "b": _tool("b")}, {"a": _tool("a"), "c": _tool("c")})
    assert diff.added == ["c"] and diff.removed == ["b"]
    assert diff.breaking == {"b": ["tool removed"]}


def test_a_new_required_argument_a_changed_type_and_a_changed_scope_are_breaking():
    old = _tool("a", page={"type": "integer"}, name={"type": "string"})
    new = copy.deepcopy(old)
    new["inputSchema"]["properties"]["page"] = {"type": "string"}
    new["inputSchema"]["required"] = ["name"]
    new["scope"] = "write"
    diff = diff_surfaces({"a": old}, {"a": new})
    assert sorted(diff.breaking["a"]) == sorted([
        "scope read -> write", "new required argument 'name'", "argument 'page' changed type"])
    assert "BREAKING a" in diff.render()


def test_a_description_change_is_a_change_but_not_breaking():
    old, new = _tool("a"), _tool("a")
    new["description"] = "Does a better thing."
    diff = diff_surfaces({"a": old}, {"a": new})
    assert diff.changed == {"a": ["description"]} and not diff.breaking
    assert diff_surfaces({"a": old}, {"a": old}).empty
