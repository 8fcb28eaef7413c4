#!/usr/bin/env python3
"""Append N valid rows to the audit chain of a fresh trustgate database (for
tests/bench/records.sh), hashing exactly as db/audit.c does, and write the
bytes each row's SHA-256 covers to OUT, so that sha256sum can hash the same
bytes.  Usage: audit_chain.py DB N OUT
           or: audit_chain.py --copy N OUT "SEQ HASH"   (PostgreSQL COPY rows)"""
import hashlib, sqlite3, struct, sys

time = "2026-11-29T00:00:00Z"

def lp(s):
    b = s.encode()
    return struct.pack(">I", len(b)) + b

# --copy N OUT "SEQ HASH": N rows after the given head, as PostgreSQL COPY
# text (tab-separated) for tests/bench/pg.sh; their action is "check", as
# the audit row of each verdict is (decisions are not record changes).
if sys.argv[1] == "--copy":
    n, out = int(sys.argv[2]), sys.argv[3]
    seq, prev = sys.argv[4].split()
    seq = int(seq)
    with open(out, "w") as f:
        for i in range(n):
            seq += 1
            obj, detail = "o%d" % seq, '{"n":%d}' % seq
            buf = b"tg-audit-v1" + struct.pack(">Q", seq) + lp(time) + lp("bench") + lp("check") + lp(obj) \
                + lp(detail) + bytes.fromhex(prev)
            h = hashlib.sha256(buf).hexdigest()
            f.write("%d\t%s\tbench\tcheck\t%s\t%s\t%s\t%s\n" % (seq, time, obj, detail, prev, h))
            prev = h
    sys.exit(0)

db, n, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
con = sqlite3.connect(db)
seq, prev = con.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()

rows = []
with open(out, "wb") as f:
    for i in range(n):
        seq += 1
        obj, detail = "o%d" % seq, '{"n":%d}' % seq
        buf = b"tg-audit-v1" + struct.pack(">Q", seq) + lp(time) + lp("bench") + lp("bench.note") + lp(obj) \
            + lp(detail) + bytes.fromhex(prev)
        f.write(buf)
        h = hashlib.sha256(buf).hexdigest()
        rows.append((seq, time, "bench", "bench.note", obj, detail, prev, h))
        prev = h
        if len(rows) == 100000:
            con.executemany("INSERT INTO audit VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
            rows = []
con.executemany("INSERT INTO audit VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
con.execute("UPDATE meta SET value = ? WHERE name = 'audit_head'", ("%d:%s" % (seq, prev),))
con.commit()
