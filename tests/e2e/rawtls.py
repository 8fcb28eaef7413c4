#!/usr/bin/env python3
"""Hand-made HTTPS requests that curl will not send: a client of the test of
trustgate serve.  Usage: rawtls.py PORT CA CERT KEY MODE [ARG]

MODE
  raw FILE      send FILE's bytes as the request (\\n turned into \\r\\n in the
                header part), print the status line or "closed"
  slow SECONDS  send a request's headers one byte per second; print
                "closed after N s" when the server cuts the connection, or
                "not closed" after SECONDS
  truncated     a POST announcing 1 MiB that sends 1 KiB and closes
"""
import socket
import ssl
import sys
import time


def connect(port, ca, cert, key):
    ctx = ssl.create_default_context(cafile=ca)
    ctx.load_cert_chain(cert, key)
    raw = socket.create_connection(("127.0.0.1", port), timeout=10)
    return ctx.wrap_socket(raw, server_hostname="localhost")


def status_of(s):
    data = b""
    try:
        while b"\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    except (OSError, ssl.SSLError):
        pass
    line = data.split(b"\r\n", 1)[0].decode("latin-1")
    return line if line else "closed"


def main():
    port, ca, cert, key, mode = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
    s = connect(port, ca, cert, key)
    if mode == "raw":
        with open(sys.argv[6], "rb") as f:
            req = f.read()
        head, sep, body = req.partition(b"\n\n")
        s.sendall(head.replace(b"\n", b"\r\n") + b"\r\n\r\n" + body)
        print(status_of(s))
    elif mode == "slow":
        limit = float(sys.argv[6])
        req = b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Padding: " + b"a" * 200 + b"\r\n\r\n"
        t0 = time.monotonic()
        s.settimeout(2)
        for b in req:
            if time.monotonic() - t0 > limit:
                print("not closed")
                return
            try:
                s.sendall(bytes([b]))
                s.setblocking(False)
                try:
                    if s.recv(1) == b"":
                        raise OSError("eof")
                except (ssl.SSLWantReadError, BlockingIOError):
                    pass
                s.setblocking(True)
                s.settimeout(2)
            except (OSError, ssl.SSLError):
                print("closed after %d s" % round(time.monotonic() - t0))
                return
            time.sleep(1)
        print("not closed (request completed)")
    elif mode == "truncated":
        boundary = "xyzzy"
        head = ("POST /v1/check HTTP/1.1\r\nHost: localhost\r\nContent-Type: multipart/form-data; boundary=%s\r\n"
                "Content-Length: 1048576\r\n\r\n" % boundary).encode()
        body = ("--%s\r\nContent-Disposition: form-data; name=\"file\"; filename=\"t.bin\"\r\n\r\n" % boundary).encode()
        s.sendall(head + body + b"x" * 1024)
        s.close()
        print("sent")


main()
