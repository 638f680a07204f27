"""The built-in flows, shipped inside the package as bot._builtin.flows (see setup.py)."""
