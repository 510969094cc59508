#!/usr/bin/env python3
"""A webhook receiver for the end-to-end tests: records every delivery it
gets, checks its Standard Webhooks signature itself (Python's hmac, not
omsd's code), and answers as told.

  webhook_receiver.py PORT_FILE

Listens on 127.0.0.1 on a free port, which it writes to PORT_FILE. Routes:
  POST /_secrets  ["whsec_...", ...]   the secrets signatures are checked with
  POST /_mode     {"status": 500, "count": 2}   the next 2 deliveries get 500
                  {"hang": 30, "count": 1}      the next one waits 30 s first
                  {"redirect": "http://...", "count": 1}   answers 302 there
  GET  /_log      the deliveries so far, oldest first: path, webhook-id,
                  webhook-timestamp, webhook-signature, body, status answered,
                  and "valid": the indexes of the secrets a signature matched
  POST anything else: a delivery.
"""
import base64
import hashlib
import hmac
import json
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

lock = threading.Lock()
secrets = []
modes = []  # [{"status"|"hang"|"redirect": ..., "count": n}]
log = []


def signature_matches(secret, msg_id, ts, body, header):
    key = base64.b64decode(secret[len("whsec_"):])
    signed = msg_id.encode() + b"." + ts.encode() + b"." + body
    want = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest())
    for part in header.split(" "):
        version, _, sig = part.partition(",")
        if version == "v1" and hmac.compare_digest(sig.encode(), want):
            return True
    return False


def next_mode():
    with lock:
        if not modes:
            return {}
        mode = modes[0]
        mode["count"] -= 1
        if mode["count"] <= 0:
            modes.pop(0)
        return mode


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def setup(self):
        super().setup()
        # Headers and body go as separate writes: without this, Nagle's
        # algorithm holds the body back for the client's delayed ACK (40 ms
        # a request on a kept-alive connection).
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def answer(self, status, body=b"", headers=()):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/_log":
            with lock:
                body = json.dumps(log).encode()
            return self.answer(200, body, [("Content-Type", "application/json")])
        self.answer(404)

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        if self.path == "/_secrets":
            with lock:
                secrets[:] = json.loads(body)
            return self.answer(204)
        if self.path == "/_mode":
            mode = json.loads(body)
            mode.setdefault("count", 1)
            with lock:
                modes.append(mode)
            return self.answer(204)
        msg_id = self.headers.get("webhook-id", "")
        ts = self.headers.get("webhook-timestamp", "")
        sig = self.headers.get("webhook-signature", "")
        with lock:
            known = list(secrets)
        valid = [i for i, s in enumerate(known)
                 if signature_matches(s, msg_id, ts, body, sig)]
        fresh = ts.isdigit() and abs(time.time() - int(ts)) < 300
        mode = next_mode()
        status = mode.get("status", 200)
        if "redirect" in mode:
            status = 302
        entry = {"path": self.path, "id": msg_id, "timestamp": ts,
                 "signature": sig, "contentType":
                 self.headers.get("Content-Type", ""),
                 "body": body.decode("utf-8", "replace"), "valid": valid,
                 "fresh": fresh, "status": status}
        with lock:
            log.append(entry)
        if "hang" in mode:
            time.sleep(float(mode["hang"]))
        if "redirect" in mode:
            return self.answer(302, b"", [("Location", mode["redirect"])])
        self.answer(status, b"ok" if status < 300 else b"no")


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    with open(sys.argv[1] + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    import os
    os.rename(sys.argv[1] + ".tmp", sys.argv[1])
    server.serve_forever()


if __name__ == "__main__":
    main()
