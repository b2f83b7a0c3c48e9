#!/usr/bin/env python3
"""A Zenduty outgoing-webhook receiver that verifies X-SIGNATURE exactly as Zenduty's guide does.

Usage: zenduty_receiver.py <port, 0 = any free port> <signing key>

Why it exists: Hookrelay rewrites x-signature bodies into Python's json.dumps form so that this snippet,
which signs json.dumps(json.loads(body)) rather than the raw bytes, verifies them. Only real Python proves it.

Stdout protocol (one line each, flushed): first `LISTENING <port>`, then per POST
`{"verified": <bool>, "event_id": <X-Hookrelay-Event-Id or null>}`.
"""
import base64
import hashlib
import hmac
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def compute_signature(data, key):
    # Verbatim from Zenduty's "Outgoing Webhooks Integration Guide"; do not "improve" it.
    key = bytes(key, "utf-8")
    message = bytes(json.dumps(data), "utf-8")
    signature = hmac.new(key, message, hashlib.sha256).digest()
    computed_hmac = base64.b64encode(signature)
    return computed_hmac


# Requests run on threads; one lock keeps each stdout line whole.
_print_lock = threading.Lock()


def emit(line):
    with _print_lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def make_handler(key):
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            received = self.headers.get("X-SIGNATURE")
            try:
                data = json.loads(body)
                computed = compute_signature(data, key)
                verified = received is not None and hmac.compare_digest(computed, received.encode("utf-8"))
            except ValueError:
                # Not JSON (or not UTF-8): the guide's receiver could not even parse it.
                verified = False
            emit(json.dumps({"verified": verified, "event_id": self.headers.get("X-Hookrelay-Event-Id")}))
            reply = json.dumps({"verified": verified}).encode("utf-8")
            self.send_response(200 if verified else 401)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, format, *args):
            # The default access log goes to stderr; stdout is the protocol, stderr stays for real errors.
            pass

    return Handler


def main():
    if len(sys.argv) != 3:
        sys.stderr.write("usage: zenduty_receiver.py <port> <signing key>\n")
        sys.exit(2)
    port = int(sys.argv[1])
    key = sys.argv[2]
    server = ThreadingHTTPServer(("127.0.0.1", port), make_handler(key))
    server.daemon_threads = True
    emit("LISTENING %d" % server.server_address[1])
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
