"""The floor: the smallest low-level MCP server on the same SDK (two tools), for start-up comparison."""

import anyio
import mcp_types as t
from mcp.server import Server
from mcp.server.stdio import stdio_server

TOOLS = [
    t.Tool(name="echo", description="Echo text.", input_schema={"type": "object", "properties": {
        "text": {"type": "string"}}}),
    t.Tool(name="ping", description="Answer pong.", input_schema={"type": "object", "properties": {}}),
]


async def list_tools(ctx, params):
    return t.ListToolsResult(tools=TOOLS)


async def call_tool(ctx, params):
    return t.CallToolResult(content=[t.TextContent(type="text", text="pong")])


async def main():
    server = Server("floor", on_list_tools=list_tools, on_call_tool=call_tool)
    async with stdio_server() as (read, write):
        await server.run(read, write, server.create_initialization_options())


if __name__ == "__main__":
    anyio.run(main)
