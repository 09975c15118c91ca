"""The helpers composite families share: lookups, accounts, addresses ZIA can block, checks, containment,
evidence and time windows, own domains, snapshots, ZDX windows and reads, ZPA rules for SCIM groups, log
receivers, Z-Insights reads and TOML files. Not a plugin and not a public API: it changes with its users, and
it imports no family (tests/test_import_rules.py)."""
