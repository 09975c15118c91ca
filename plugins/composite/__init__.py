"""Composite tools, one family per module or package; `_kit` holds what the families share. A family
imports the plugin API, its own package and `_kit`, never another family (tests/test_import_rules.py)."""
