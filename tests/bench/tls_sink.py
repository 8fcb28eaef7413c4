#!/usr/bin/env python3
"""The floor under an upload: a TLS server on loopback that reads one
request's body and throws it away (decrypting is all it does), answering
200 after Content-Length bytes.  Usage: tls_sink.py PORT CERT KEY COUNT.
Prints "ready", then one line per request: bytes read, CPU seconds."""
import resource
import socket
import ssl
import sys

port, cert, key, count = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", port))
srv.listen(1)
srv.settimeout(120)
print("ready", flush=True)
for _ in range(count):
    raw, _ = srv.accept()
    raw.settimeout(120)
    t = ctx.wrap_socket(raw, server_side=True)
    r0 = resource.getrusage(resource.RUSAGE_SELF)
    buf = bytearray(1 << 20)
    head = b""
    while b"\r\n\r\n" not in head:
        k = t.recv(4096)
        if not k:
            break
        head += k
    hdr, _, rest = head.partition(b"\r\n\r\n")
    length = 0
    for line in hdr.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    got = len(rest)
    while got < length:
        k = t.recv_into(buf)
        if k == 0:
            break
        got += k
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    t.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
    t.close()
    cpu = r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime
    print("got %d cpu %.2f" % (got, cpu), flush=True)
