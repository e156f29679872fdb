"""``paysandbox``: the sandbox's command-line tool (SPEC §13). Speaks only HTTP to the API."""
