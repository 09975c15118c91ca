"""The helpers composite families share (lookups, accounts, checks, containment, own domains, snapshots,
ZDX windows, Z-Insights reads, TOML files). Not a plugin and not a public API: it may change with its users."""
