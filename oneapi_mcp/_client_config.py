"""`oneapi-mcp config <client>`: the entry an MCP client needs to start this install, printed or merged
into the client's own file (other entries and settings kept).

Each client's file and schema, as its vendor documents them:
- Claude Desktop: `claude_desktop_config.json`, `{"mcpServers": {name: {command, args, env}}}`
  (https://modelcontextprotocol.io/quickstart/user)
- Claude Code: project scope `.mcp.json`, `{"mcpServers": {name: {"type": "stdio", command, args, env}}}`
  (https://code.claude.com/docs/en/mcp)
- Cursor: `~/.cursor/mcp.json`, `{"mcpServers": {name: {command, args, env}}}` (https://cursor.com/docs/mcp)
- VS Code: workspace `.vscode/mcp.json`, `{"servers": {name: {"type": "stdio", command, args, env}}}`
  (https://code.visualstudio.com/docs/copilot/customization/mcp-servers)
- Windsurf: `~/.codeium/windsurf/mcp_config.json`, `{"mcpServers": {name: {command, args, env}}}`
  (https://docs.windsurf.com/windsurf/cascade/mcp)

Secrets never go into these files: the server reads credentials from its own config, keyring or env.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._settings import ConfigError, load_servers

__all__ = ["CLIENTS", "ClientFormat", "client_entry", "merge_into_file", "server_command"]


@dataclass(frozen=True)
class ClientFormat:
    label: str
    servers_key: str  # the top-level object that maps names to servers
    typed: bool  # entries carry "type": "stdio"
    default_path: Callable[[Path, Path], Path]  # (home, cwd) -> the file this client reads
    docs: str


def _claude_desktop_path(home: Path, _cwd: Path) -> Path:
    if sys.platform == "darwin":
        return home / "Library" / "Application Support" / "Claude" / "claude_desktop_config.json"
    if sys.platform == "win32":
        return Path(os.environ.get("APPDATA", home / "AppData" / "Roaming")) / "Claude" / "claude_desktop_config.json"
    return Path(os.environ.get("XDG_CONFIG_HOME", home / ".config")) / "Claude" / "claude_desktop_config.json"


CLIENTS: dict[str, ClientFormat] = {
    "claude-desktop": ClientFormat("Claude Desktop", "mcpServers", False, _claude_desktop_path,
                                   "https://modelcontextprotocol.io/quickstart/user"),
    "claude-code": ClientFormat("Claude Code (project scope)", "mcpServers", True,
                                lambda _home, cwd: cwd / ".mcp.json", "https://code.claude.com/docs/en/mcp"),
    "cursor": ClientFormat("Cursor", "mcpServers", False, lambda home, _cwd: home / ".cursor" / "mcp.json",
                           "https://cursor.com/docs/mcp"),
    "vscode": ClientFormat("VS Code (workspace)", "servers", True, lambda _home, cwd: cwd / ".vscode" / "mcp.json",
                           "https://code.visualstudio.com/docs/copilot/customization/mcp-servers"),
    "windsurf": ClientFormat("Windsurf", "mcpServers", False,
                             lambda home, _cwd: home / ".codeium" / "windsurf" / "mcp_config.json",
                             "https://docs.windsurf.com/windsurf/cascade/mcp"),
}


def server_command() -> list[str]:
    """The absolute command that starts this install: its `oneapi-mcp` script next to the running
    interpreter (venv, pipx, uvx), else the interpreter itself with `-m oneapi_mcp.cli`."""
    interpreter = Path(os.path.abspath(sys.executable))  # not resolved: a venv's python is a symlink out of it
    script = interpreter.parent / ("oneapi-mcp.exe" if sys.platform == "win32" else "oneapi-mcp")
    return [str(script)] if script.is_file() else [str(interpreter), "-m", "oneapi_mcp.cli"]


def client_entry(client: str, *, config: Path | None = None, server: str | None = None,
                 profile: str | None = None, mock: bool = False) -> dict[str, Any]:
    """One server entry in `client`'s schema. The config file and the named server are checked first."""
    fmt = CLIENTS[client]
    command, *args = server_command()
    args.append("serve")
    if config is not None:
        config = config.expanduser().resolve()
        if not config.is_file():
            raise ConfigError(f"--config {config}: no such file")
        args += ["--config", str(config)]
    if server is not None:
        servers = load_servers(config)
        if server not in servers:
            raise ConfigError(f"no server named {server!r}; the config defines {', '.join(servers)}")
        args += ["--server", server]
    if profile is not None:
        args += ["--profile", profile]
    if mock:
        args.append("--mock")
    entry: dict[str, Any] = {"type": "stdio"} if fmt.typed else {}
    entry.update(command=command, args=args, env={})
    return entry


def merge_into_file(client: str, path: Path, name: str, entry: dict[str, Any]) -> None:
    """Put `entry` under `name` in the client's file, keeping every other key and server. A file that
    is not a JSON object is left untouched and named in the error."""
    key = CLIENTS[client].servers_key
    document: dict[str, Any] = {}
    if path.exists():
        try:
            document = json.loads(path.read_text(encoding="utf-8") or "{}")
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{path} is not plain JSON ({exc.msg}, line {exc.lineno}); "
                              f"it was left as it is: add the printed entry by hand") from None
        if not isinstance(document, dict) or not isinstance(document.get(key, {}), dict):
            raise ConfigError(f"{path}: expected a JSON object with {key!r} an object; it was left as it is")
    document.setdefault(key, {})[name] = entry
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)  # atomic: a crash never leaves the client's file half-written
