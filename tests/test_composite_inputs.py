"""Composite tools' inputs as pydantic models: the listed schema comes from the model, bad arguments are refused
by it before the handler runs (as a generated tool's are, each field named), and the handler gets the
validated values."""

from __future__ import annotations

import json
import subprocess
import sys

import httpx
import pytest
from mcp import Client
from pydantic import Field

from oneapi_mcp import _plugins
from oneapi_mcp._executor import Executor
from oneapi_mcp._runtime import Runtime
from oneapi_mcp._server import build_server
from oneapi_mcp._settings import ServerSettings
from oneapi_mcp.plugin_api import (
    CompositeTool,
    OnFailure,
    PlanInput,
    hookimpl,
    input_schema_of,
    on_failure_field,
    service_list,
)

pytestmark = pytest.mark.anyio


class _Echo(PlanInput):
    who: str = Field(min_length=1, description="Someone.")
    count: int = Field(3, ge=1, description="How many.")
    note: str | None = Field(None, description="Optional.")
    on_failure: OnFailure = on_failure_field("rollback")
    services: service_list(("zia", "zpa")) = None  # type: ignore[valid-type]


async def _echo(ctx, arguments):
    return {"got": arguments}


class _EchoPlugin:
    @hookimpl
    def oneapi_mcp_register_tools(self, settings):
        return [CompositeTool(name="acme_echo", description="Echo the validated arguments.", handler=_echo,
                              input_model=_Echo)]


@pytest.fixture
def pm():
    pm = _plugins.create_plugin_manager(entrypoints=False)
    pm.register(_EchoPlugin(), name="acme_echo")
    _plugins.set_plugin_manager(pm)
    yield pm
    _plugins.set_plugin_manager(None)


@pytest.fixture
def sent():
    return []


def _server(pm, sent):
    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        if request.url.path.endswith("/token"):
            return httpx.Response(200, json={"access_token": "fake-token-123456", "expires_in": 3600})
        return httpx.Response(200, json=[])

    def factory(catalog):
        return Executor(catalog, httpx.AsyncClient(transport=httpx.MockTransport(handler)),
                        base_url="https://api.zsapi.net", customer_id="7")

    return build_server(Runtime(settings=ServerSettings(profile="admin"), executor_factory=factory,
                                customer_id_known=True, pm=pm))


def test_the_listed_schema_is_the_models_in_the_compact_form_clients_take():
    schema = input_schema_of(_Echo)
    assert schema["additionalProperties"] is False and schema["required"] == ["who"]
    assert "title" not in schema and all("title" not in p and "anyOf" not in p for p in schema["properties"].values())
    assert schema["properties"]["note"] == {"type": "string", "description": "Optional."}
    assert schema["properties"]["services"] == {
        "type": "array", "items": {"type": "string", "enum": ["zia", "zpa"]}, "minItems": 1, "uniqueItems": True,
        "description": schema["properties"]["services"]["description"]}
    assert schema["properties"]["on_failure"]["enum"] == ["continue", "rollback"]
    assert list(schema["properties"])[:2] == ["dry_run", "activate"]  # PlanInput's arguments


async def test_the_handler_receives_the_validated_values_with_defaults_filled(pm, sent):
    async with Client(_server(pm, sent), cache=None) as client:
        result = await client.call_tool("acme_echo", {"who": "ada", "services": ["zpa"]})
        listed = {t.name: t for t in (await client.list_tools()).tools}
    assert not result.is_error
    assert result.structured_content["result"]["got"] == {
        "dry_run": True, "activate": True, "who": "ada", "count": 3, "on_failure": "rollback", "services": ["zpa"]}
    assert listed["acme_echo"].input_schema == input_schema_of(_Echo)


@pytest.mark.parametrize(("tool", "arguments", "problems"), [
    ("users_disable", {"user": 5}, {"user": "Input should be a valid string"}),  # bad type
    ("users_disable", {"user": "ada@example.com", "colour": "red"}, {"colour": "unknown argument"}),
    ("users_add_to_group", {"group": "Finance"}, {"users": "required argument is missing"}),
    ("users_disable", {"user": "", "zia": "perhaps", "services": ["zia", "zia"], "extra": 1}, {
        "user": "String should have at least 1 character",
        "zia": "Input should be a valid boolean, unable to interpret input",
        "services": "Value error, 'zia' is given twice (each at most once)", "extra": "unknown argument"}),
    ("users_create_user", {"email": "ada@example.com", "groups": "Finance"},
     {"groups": "Input should be a valid list"}),
])
async def test_bad_arguments_to_a_converted_family_are_refused_naming_every_field_before_any_request(
        pm, sent, tool, arguments, problems):
    async with Client(_server(pm, sent), cache=None) as client:
        result = await client.call_tool(tool, arguments)
    error = result.structured_content["error"]
    assert result.is_error and error["kind"] == "invalid_arguments" and error["tool"] == tool
    assert {p["field"]: p["problem"] for p in error["problems"]} == problems
    assert error["message"].startswith(f"{tool}: invalid arguments, nothing was sent upstream: ")
    assert all(field in error["message"] for field in problems)
    assert sent == []  # refused before any token or upstream request


async def test_a_composite_tools_validation_error_has_the_shape_and_wording_of_a_generated_tools(pm, sent):
    async with Client(_server(pm, sent), cache=None) as client:
        composite = (await client.call_tool("acme_echo", {"who": "ada", "colour": "red"})).structured_content
        generated = (await client.call_tool("invoke_operation", {
            "name": "zia_list_users", "arguments": {"colour": "red"}})).structured_content
    assert set(composite["error"]) == set(generated["error"]) == {"kind", "tool", "problems", "message"}
    assert composite["error"]["problems"] == generated["error"]["problems"] == [
        {"field": "colour", "problem": "unknown argument"}]
    assert composite["error"]["message"].replace("acme_echo", "X") == generated["error"]["message"].replace(
        "zia_list_users", "X")
    assert sent == []


def test_every_built_in_composite_and_discovery_tool_declares_an_input_model():
    surface = _server(_plugins.create_plugin_manager(entrypoints=False), []).surface
    assert {tool.kind for tool in surface.registered.values()} == {"composite", "discovery"}
    without = sorted(f"{n} ({tool.handler.__module__})" for n, tool in surface.registered.items()
                     if tool.input_model is None)
    assert without == [], f"declare input_model= for: {', '.join(without)}"


def test_each_stored_input_schema_is_the_one_its_model_gives_else_make_input_schemas_names_the_tool():
    from oneapi_mcp.composite._stored import STORE, current_schemas

    stored, current = json.loads(STORE.read_text(encoding="utf-8")), current_schemas()
    stale = sorted(name for name in stored.keys() | current.keys() if stored.get(name) != current.get(name))
    assert stale == [], f"{STORE.name} is stale for {', '.join(stale)}: run `make input-schemas`"
    # the order of a schema's properties is what clients show: stored as derived, not sorted
    assert all(list(stored[n]["schema"].get("properties", {})) == list(current[n]["schema"].get("properties", {}))
               for n in current)


def test_a_model_not_the_stored_one_gets_its_own_schema_not_the_stored_one():
    from oneapi_mcp.composite._stored import InputSchema, stored_schema

    assert stored_schema("users_disable", _Echo) is None
    assert dict(InputSchema("users_disable", _Echo)) == input_schema_of(_Echo)


def test_building_and_listing_the_server_defines_no_input_model_and_a_call_imports_only_its_own():
    # a fresh interpreter: the default server built and listed (as `serve` does), then every tool listed
    code = """
import sys
from oneapi_mcp._runtime import Runtime
from oneapi_mcp._server import build_server
from oneapi_mcp._settings import ServerSettings
def ours():
    return sorted(m for m in sys.modules if m.endswith(("_inputs", ".inputs", "_input_models"))
                  and m != "oneapi_mcp.composite._inputs")  # its helpers; it defines no model (test below)
build_server(Runtime(settings=ServerSettings(), executor_factory=lambda c: None)).surface.listing()
surface = build_server(Runtime(settings=ServerSettings(profile="admin", tools_mode="full"),
                               executor_factory=lambda c: None, customer_id_known=True)).surface
listed = [surface.mcp_tool(n) for n in surface.listed_names(None)]
paths = [t.input_model for t in surface.registered.values() if t.input_model is not None]
print(len(listed), len(paths), sum(not isinstance(p, str) for p in paths), ours() or "-")
from oneapi_mcp.composite._inputs import check_arguments
print(check_arguments(surface.registered["users_disable"], {"user": "ada@example.com"})["zia"], ours())
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split("\n")
    listed, models, classes, modules = out[0].split(" ", 3)
    assert int(listed) > 1000 and int(models) >= 50
    assert (classes, modules) == ("0", "-")  # every built-in tool names its model by path; none imported to list
    assert out[1] == ("True ['oneapi_mcp.composite._input_models', "
                      "'oneapi_mcp.plugins.composite.users_inputs']")  # the first call imported its own model


class _ByPathPlugin:
    @hookimpl
    def oneapi_mcp_register_tools(self, settings):
        return [CompositeTool(name="acme_echo_by_path", description="Echo, its model named by path.", handler=_echo,
                              input_model=f"{__name__}:_Echo")]


async def test_a_model_named_by_import_path_lists_and_validates_as_the_class_does(pm, sent):
    pm.register(_ByPathPlugin(), name="acme_by_path")
    async with Client(_server(pm, sent), cache=None) as client:
        listed = {t.name: t for t in (await client.list_tools()).tools}
        good = await client.call_tool("acme_echo_by_path", {"who": "ada"})
        bad = await client.call_tool("acme_echo_by_path", {"who": "", "colour": "red"})
    assert listed["acme_echo_by_path"].input_schema == input_schema_of(_Echo)
    assert good.structured_content["result"]["got"]["count"] == 3
    error = bad.structured_content["error"]
    assert error["kind"] == "invalid_arguments" and {p["field"] for p in error["problems"]} == {"who", "colour"}


@pytest.mark.parametrize("path", ["plugins.composite.users_inputs", "no colon:Here", "a.b:", ":Cls", "a..b:C"])
def test_an_input_model_string_that_is_no_import_path_is_refused_at_registration_naming_tool_and_path(path):
    with pytest.raises(ValueError, match=f"composite tool acme_x: input_model '{path}' is not an import path"):
        CompositeTool(name="acme_x", description="x", handler=_echo, input_model=path)


async def test_an_input_model_path_that_cannot_be_imported_fails_on_first_call_naming_tool_and_path(pm, sent):
    from oneapi_mcp.composite._inputs import check_arguments
    from oneapi_mcp.composite._stored import load_model

    tool = CompositeTool(name="acme_missing_model", description="x", handler=_echo,
                         input_model="acme_nowhere.inputs:_Gone")  # registering imports nothing
    with pytest.raises(ValueError, match="acme_missing_model: input_model 'acme_nowhere.inputs:_Gone' cannot be"):
        check_arguments(tool, {})
    with pytest.raises(ValueError, match=f"acme_y: input_model '{__name__}:_echo' is not a pydantic model"):
        load_model("acme_y", f"{__name__}:_echo")
    with pytest.raises(ValueError, match=f"input_model '{__name__}:_Nope' cannot be imported"):
        dict(CompositeTool(name="acme_z", description="x", handler=_echo, input_model=f"{__name__}:_Nope").input_schema)


def test_the_input_helpers_module_defines_no_model_class_its_mixins_come_from_input_models():
    import oneapi_mcp.composite._inputs as helpers
    from oneapi_mcp.composite import _input_models

    assert not [v for v in vars(helpers).values() if isinstance(v, type) and v.__module__ == helpers.__name__]
    assert helpers.ToolInput is _input_models.ToolInput and helpers.PlanInput is _input_models.PlanInput
    with pytest.raises(AttributeError, match="no attribute 'NoSuchInput'"):
        helpers.NoSuchInput  # noqa: B018
