"""FAULT-INJECTING RPC PROXY: forwards JSON-RPC to a real geth, failing a share of calls.

Not a fake chain: every answer that does get through is geth's own. Failed calls get an
HTTP 503 or a dropped connection, chosen at random with a fixed seed.
"""

from __future__ import annotations

import random
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx


class FaultProxy:
    def __init__(self, upstream: str, failure_rate: float, seed: int = 7) -> None:
        rng = random.Random(seed)
        lock = threading.Lock()
        client = httpx.Client(timeout=30)
        self.calls = 0
        self.failed = 0
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with lock:
                    proxy.calls += 1
                    fail = rng.random() < failure_rate
                    drop = rng.random() < 0.5
                if fail:
                    proxy.failed += 1
                    if drop:
                        self.close_connection = True
                        return  # no answer at all: the client sees a broken connection
                    self.send_response(503)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                answer = client.post(
                    upstream, content=body, headers={"Content-Type": "application/json"}
                )
                self.send_response(answer.status_code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer.content)))
                self.end_headers()
                self.wfile.write(answer.content)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FaultProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
