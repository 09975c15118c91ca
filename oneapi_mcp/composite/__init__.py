"""Helpers composite tools share (look-plan-apply workflows, outcomes, reports). Plugins reach them
through `oneapi_mcp.plugin_api`; the modules here are private."""
