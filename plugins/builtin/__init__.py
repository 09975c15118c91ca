"""Built-in policy plugins: credentials, OneAPI auth, scopes and confirmation, rate limits, untrusted
content, the audit log and metrics. They wrap every call; none of them registers a tool."""
