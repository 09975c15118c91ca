"""An in-house oneapi-mcp plugin: one composite tool and one filter (see README.md)."""

from __future__ import annotations

from collections import Counter

from pydantic import Field

from oneapi_mcp.plugin_api import CompositeTool, ToolInput, hookimpl, tool_error

__all__ = ["oneapi_mcp_filter_tools", "oneapi_mcp_register_tools"]


class HeadcountInput(ToolInput):
    """The arguments, validated before the handler runs; the handler gets them with the defaults filled."""

    top: int = Field(10, ge=1, le=100, description="How many departments to return.")
    max_users: int = Field(1000, ge=1, le=100000, description="Stop counting after this many users.")


async def department_headcount(ctx, arguments):
    users = await ctx.call_operation("zia_list_users", {"all_pages": True, "max_items": arguments["max_users"]})
    if users.is_error:  # an upstream failure stays a failure: say what failed, never return it as a result
        error = users.data["error"]
        return tool_error(f"could not list ZIA users: {error['message']}", error["kind"], status=error.get("status"))
    counts = Counter((u.get("department") or {}).get("name", "(none)") for u in users.data["items"])
    top = counts.most_common(arguments["top"])
    return {"departments": [{"department": name, "users": n} for name, n in top],
            "users_counted": sum(counts.values()), "more_users": users.data["more"]}


HEADCOUNT = CompositeTool(
    name="example_department_headcount",
    title="Headcount per ZIA department",
    description="Count ZIA users per department and return the largest departments first.",
    handler=department_headcount,
    operations=("zia_list_users",),
    input_model=HeadcountInput,
)


@hookimpl
def oneapi_mcp_register_tools(settings):
    return [HEADCOUNT]


@hookimpl
def oneapi_mcp_filter_tools(settings, tools):
    return {tool.name: f"{tool.name} is limited to 3 calls a day per tenant; ask the endpoint team for the export"
            for tool in tools if tool.service == "zcc" and tool.name.startswith("zcc_download")}
