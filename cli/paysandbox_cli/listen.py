"""``paysandbox listen``: tail the team's events and forward each to a local URL.

Short polling (every ``interval`` seconds, default 1): one ``GET /api/events?after=<last>``
per poll, answered at once. Why not long polling: a request held open bills the API's Lambda
for the whole wait and holds one concurrent execution per listener, and the API still has to
look for new events every second inside it; a short poll costs one cheap request per second
and nothing in between (README, "Receive webhooks on your laptop", for the figures).

Resumes from the last event it handled, so an API that is briefly unreachable (or a sandbox
restart) loses nothing and sends nothing twice.
"""

from __future__ import annotations

import signal
import sys
import time
import urllib.error
import urllib.request
from datetime import datetime
from typing import Any, TextIO

from paysandbox_cli.client import ApiError, Client, Unreachable

PAGE = 100
FORWARD_TIMEOUT = 10.0
MAX_BACKOFF = 2.0


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A 3xx is the endpoint's answer, as for a real delivery (which never follows redirects)."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_forwarder = urllib.request.build_opener(_NoRedirects)


class Listener:
    def __init__(self, client: Client, forward_to: str, types: set[str], interval: float, out: TextIO):
        self.client, self.forward_to, self.types, self.interval, self.out = client, forward_to, types, interval, out
        self.last: str | None = None  # the last event handled: where the next poll starts
        self.anchored = False

    def run(self) -> None:
        self._say(f"Forwarding events to {self.forward_to} (Ctrl-C to stop)")
        backoff = self.interval
        down = False
        while True:
            try:
                if not self.anchored:
                    self._anchor()
                handled = self.poll()
                if down:
                    self._say("API reachable again; resuming after the last event forwarded")
                    down = False
                backoff = self.interval
                if handled < PAGE:
                    time.sleep(self.interval)
            except Unreachable as error:
                if not down:
                    self._say(f"{error}; retrying")
                    down = True
                time.sleep(backoff)
                backoff = min(MAX_BACKOFF, backoff * 2)

    def _anchor(self) -> None:
        """Start after the newest event that exists now: only new events are forwarded."""
        newest = self.client.call("GET", "/api/events", query={"limit": 1})["events"]
        self.last = newest[0]["event_id"] if newest else None
        self.anchored = True

    def poll(self) -> int:
        """Forward the events after the last one handled, oldest first; how many there were."""
        if self.last is None:
            # No event existed at start: every event now is new (newest first, so reversed).
            page = self.client.call("GET", "/api/events", query={"limit": PAGE, "signed": "true"})
            events = list(reversed(page["events"]))
        else:
            try:
                page = self.client.call(
                    "GET", "/api/events", query={"after": self.last, "limit": PAGE, "signed": "true"}
                )
            except ApiError as error:
                if error.status != 404:
                    raise
                # The last event aged out (retention): start again from the newest.
                self._say("the last event forwarded is gone (retention); continuing from the newest")
                self.anchored = False
                return 0
            events = page["events"]
        for event in events:
            if not self.types or event["type"] in self.types:
                self._forward(event)
            self.last = event["event_id"]
        return len(events)

    def _forward(self, event: dict[str, Any]) -> None:
        webhook = event["webhook"]
        request = urllib.request.Request(  # noqa: S310 (a URL the developer chose)
            self.forward_to, data=webhook["payload"].encode(), method="POST", headers=webhook["headers"]
        )
        try:
            with _forwarder.open(request, timeout=FORWARD_TIMEOUT) as response:
                outcome = str(response.status)
        except urllib.error.HTTPError as error:
            outcome = str(error.code)
        except (urllib.error.URLError, OSError) as error:
            outcome = f"error: {getattr(error, 'reason', error)}"
        self._say(f"{event['type']:<18} {event['payment_id']}  [{event['event_id']}] -> {outcome}")

    def _say(self, line: str) -> None:
        print(f"{datetime.now().strftime('%H:%M:%S')}  {line}", file=self.out, flush=True)


def listen(client: Client, forward_to: str, events: str | None, interval: float) -> int:
    types = {t.strip() for t in (events or "").split(",") if t.strip()}
    # Ctrl-C (SIGINT) and SIGTERM stop it even when it was started with SIGINT ignored, as a
    # shell's background job or a supervisor may start it: Python only raises KeyboardInterrupt
    # if the handler is installed.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        Listener(client, forward_to, types, interval, sys.stdout).run()
    except KeyboardInterrupt:
        print("stopped", file=sys.stderr)
    return 0
