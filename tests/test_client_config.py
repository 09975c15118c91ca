"""`oneapi-mcp config <client>` and `--version`, checked against each client's documented schema.

The schemas below restate what each vendor documents for a local (stdio) server:
- Claude Desktop: https://modelcontextprotocol.io/quickstart/user (`mcpServers`, command/args/env)
- Claude Code: https://code.claude.com/docs/en/mcp (`.mcp.json`, `mcpServers`, `"type": "stdio"`)
- Cursor: https://cursor.com/docs/mcp (`~/.cursor/mcp.json`, `mcpServers`, command/args/env)
- VS Code: https://code.visualstudio.com/docs/copilot/customization/mcp-servers (`.vscode/mcp.json`,
  `servers`, `"type": "stdio"`)
- Windsurf: https://docs.windsurf.com/windsurf/cascade/mcp (`~/.codeium/windsurf/mcp_config.json`, `mcpServers`)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from oneapi_mcp import __version__
from oneapi_mcp.cli import main


def _schema(servers_key: str, typed: bool) -> dict:
    entry = {
        "type": "object",
        "required": ["command", *(["type"] if typed else [])],
        "properties": {
            "command": {"type": "string", "minLength": 1},
            "args": {"type": "array", "items": {"type": "string"}},
            "env": {"type": "object", "additionalProperties": {"type": "string"}},
            **({"type": {"const": "stdio"}} if typed else {}),
        },
        "additionalProperties": False,
    }
    return {"type": "object", "required": [servers_key],
            "properties": {servers_key: {"type": "object", "additionalProperties": entry, "minProperties": 1}}}


DOCUMENTED = {
    "claude-desktop": _schema("mcpServers", typed=False),
    "claude-code": _schema("mcpServers", typed=True),
    "cursor": _schema("mcpServers", typed=False),
    "vscode": _schema("servers", typed=True),
    "windsurf": _schema("mcpServers", typed=False),
}

SERVERS_TOML = '[servers.tenant-a]\nprofile = "read-only"\n\n[servers.tenant-b]\nprofile = "admin"\n'


@pytest.fixture
def servers_toml(tmp_path: Path) -> Path:
    path = tmp_path / "servers.toml"
    path.write_text(SERVERS_TOML)
    return path


def _printed(capsys, *argv: str) -> dict:
    assert main(["config", *argv]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("client", sorted(DOCUMENTED))
def test_each_client_gets_its_documented_schema_with_the_absolute_command_server_and_profile(
        client, servers_toml, capsys):
    doc = _printed(capsys, client, "--config", str(servers_toml), "--server", "tenant-a", "--profile", "read-only")
    jsonschema.validate(doc, DOCUMENTED[client])
    (name, entry), = next(iter(doc.values())).items()
    assert name == "oneapi-mcp-tenant-a"
    assert Path(entry["command"]).is_absolute() and Path(entry["command"]).exists()
    args = entry["args"]
    assert args[args.index("--config") + 1] == str(servers_toml.resolve())
    assert args[args.index("--server") + 1] == "tenant-a" and args[args.index("--profile") + 1] == "read-only"
    assert entry["env"] == {}  # secrets stay out of client files


def test_the_printed_command_really_starts_this_install(capsys):
    entry = _printed(capsys, "cursor", "--mock")["mcpServers"]["oneapi-mcp"]
    out = subprocess.run([entry["command"], *[a for a in entry["args"] if a not in ("serve", "--mock")],
                          "tools", "--mock"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "default" in out.stdout


def test_write_merges_into_the_clients_file_keeping_other_servers_and_settings(tmp_path, servers_toml, capsys):
    target = tmp_path / "claude_desktop_config.json"
    target.write_text(json.dumps({"globalShortcut": "Ctrl+Space",
                                  "mcpServers": {"other": {"command": "/usr/bin/other", "args": []}}}))
    assert main(["config", "claude-desktop", "--config", str(servers_toml), "--server", "tenant-b",
                 "--write", "--file", str(target)]) == 0
    assert str(target) in capsys.readouterr().err
    doc = json.loads(target.read_text())
    jsonschema.validate(doc, DOCUMENTED["claude-desktop"])
    assert doc["globalShortcut"] == "Ctrl+Space"
    assert set(doc["mcpServers"]) == {"other", "oneapi-mcp-tenant-b"}
    assert main(["config", "claude-desktop", "--server", "tenant-b", "--config", str(servers_toml),
                 "--profile", "read-only", "--write", "--file", str(target)]) == 0  # re-run replaces, not duplicates
    doc = json.loads(target.read_text())
    assert set(doc["mcpServers"]) == {"other", "oneapi-mcp-tenant-b"}
    assert "read-only" in doc["mcpServers"]["oneapi-mcp-tenant-b"]["args"]


@pytest.mark.parametrize("client,relative", [("vscode", ".vscode/mcp.json"), ("claude-code", ".mcp.json"),
                                             ("cursor", "home/.cursor/mcp.json"),
                                             ("windsurf", "home/.codeium/windsurf/mcp_config.json")])
def test_write_without_file_uses_the_clients_usual_place(client, relative, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    assert main(["config", client, "--mock", "--write"]) == 0
    jsonschema.validate(json.loads((tmp_path / relative).read_text()), DOCUMENTED[client])


def test_a_file_with_comments_is_left_untouched_and_named(tmp_path, capsys):
    target = tmp_path / "mcp.json"
    original = '{\n  // my servers\n  "servers": {}\n}\n'
    target.write_text(original)
    assert main(["config", "vscode", "--write", "--file", str(target)]) == 2
    err = capsys.readouterr().err
    assert str(target) in err and "not plain JSON" in err
    assert target.read_text() == original


def test_bad_input_is_named_before_anything_is_written(tmp_path, servers_toml, capsys):
    target = tmp_path / "out.json"
    assert main(["config", "cursor", "--config", str(tmp_path / "missing.toml"), "--write",
                 "--file", str(target)]) == 2
    assert "missing.toml: no such file" in capsys.readouterr().err
    assert main(["config", "cursor", "--config", str(servers_toml), "--server", "tenant-z", "--write",
                 "--file", str(target)]) == 2
    assert "no server named 'tenant-z'" in capsys.readouterr().err
    assert not target.exists()
    with pytest.raises(SystemExit):
        main(["config", "notepad"])


def test_version_comes_from_the_package_and_matches_the_installed_metadata(capsys):
    from importlib.metadata import version

    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"oneapi-mcp {__version__}"
    assert version("oneapi-mcp") == __version__
    changelog = (Path(__file__).resolve().parent.parent / "CHANGELOG.md").read_text()
    assert f"## [{__version__}]" in changelog


def test_without_a_script_next_to_the_interpreter_the_command_is_the_interpreter(monkeypatch, tmp_path):
    from oneapi_mcp import _client_config

    monkeypatch.setattr(sys, "executable", str(tmp_path / "python3"))
    assert _client_config.server_command() == [os.path.abspath(tmp_path / "python3"), "-m", "oneapi_mcp.cli"]
