"""The built-in config, shipped inside the package as bot._builtin.config (see setup.py)."""
