#!/usr/bin/env python3
"""A webhook receiver for the test of trustgate serve --webhook: HTTPS on
127.0.0.1:PORT with the given certificate; answers the first FAIL requests
with 500, the others with 204, and saves each body as DIR/hook-N.json (and
its X-Trustgate-Event header as DIR/hook-N.event).  Usage:
hook.py PORT CERT KEY DIR FAIL"""
import http.server
import ssl
import sys

port, cert, key, out, fail = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
count = [0]


class Hook(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        count[0] += 1
        with open("%s/hook-%d.json" % (out, count[0]), "wb") as f:
            f.write(body)
        with open("%s/hook-%d.event" % (out, count[0]), "w") as f:
            f.write(self.headers.get("X-Trustgate-Event", ""))
        self.send_response(500 if count[0] <= fail else 204)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *a):
        pass


srv = http.server.HTTPServer(("127.0.0.1", port), Hook)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
srv.serve_forever()
