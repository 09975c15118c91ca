"""Built-in plugin: incident management (a person's security events over a window, where indicators
appear across services, and an incident report).

OneAPI has no incident or event-search API for ZIA/ZPA traffic: web, firewall and DNS transaction
logs leave the cloud through NSS feeds, ZPA user activity through LSS, and neither is queryable
over REST. What the vendored APIs do offer is read here and joined on the email address:
Z-Insights cyber-security incidents per day (GraphQL), ZDX device events and alerts, ZWA DLP incidents,
ZIA sandbox verdicts by MD5, the ZIA admin audit log (an export job: start, poll, download), and
the configuration that names a person, device, domain or hash. Every report lists the sources it
could not query and why.

Reports never stop at the first failed read: each source is reported as ok, partial, failed or
pending, with the calls it made.
"""

from __future__ import annotations

from ...hookspecs import hookimpl
from .tools import TOOLS

__all__ = ["TOOLS", "oneapi_mcp_register_tools"]


@hookimpl
def oneapi_mcp_register_tools(settings):
    return TOOLS
