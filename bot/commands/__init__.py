"""The `reflect` command's groups, one module each. bot/cli.py assembles them."""
