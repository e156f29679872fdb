"""``paysandbox``: the sandbox's command-line tool (docs/events.md). Speaks only HTTP to the API."""
