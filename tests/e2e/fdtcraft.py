#!/usr/bin/env python3
"""Byte-level device-tree forgeries dtc and fdtput will not make (THREATS
14, 20): a named root, a second root node, a lying totalsize.

usage: fdtcraft.py named-root|second-root IN OUT
       fdtcraft.py totalsize IN OUT VALUE
       fdtcraft.py split IN TREE TAIL [POS]   tree = totalsize bytes, tail =
                                             bytes from POS (default: the
                                             4-aligned end of the tree)
       fdtcraft.py join TREE TAIL OUT [POS]   tree, zero padding to POS (or
                                             4-aligned), tail
External data lives after the tree; fdtput rewrites only the tree, so
external-data FITs are edited as split, fdtput TREE, join.
"""
import struct
import sys

FDT_BEGIN_NODE, FDT_END_NODE, FDT_END = 1, 2, 9


def header(b):
    return list(struct.unpack(">10I", b[:40]))


def main():
    op, src, out = sys.argv[1], sys.argv[2], sys.argv[3]
    b = bytearray(open(src, "rb").read())
    if op == "split":
        ts = header(b)[1]
        pos = int(sys.argv[5], 0) if len(sys.argv) > 5 else (ts + 3) // 4 * 4
        open(out, "wb").write(b[:ts])
        open(sys.argv[4], "wb").write(b[pos:])
        return
    if op == "join":
        tail = open(out, "rb").read()
        dst = sys.argv[4]
        pos = int(sys.argv[5], 0) if len(sys.argv) > 5 else (len(b) + 3) // 4 * 4
        assert len(b) <= pos, "tree grew past the data position"
        open(dst, "wb").write(bytes(b) + bytes(pos - len(b)) + tail)
        return
    h = header(b)
    # magic, totalsize, off_struct, off_strings, off_rsvmap, version,
    # last_comp, boot_cpuid, size_strings, size_struct
    off_struct, size_struct = h[2], h[9]
    if op == "named-root":
        # The root's name is the 4 zero bytes after its BEGIN_NODE tag:
        # "f@k\0" keeps every offset in place.
        assert struct.unpack(">I", b[off_struct:off_struct + 4])[0] == FDT_BEGIN_NODE
        b[off_struct + 4:off_struct + 8] = b"f@k\0"
    elif op == "second-root":
        # Insert an empty second top-level node before FDT_END.
        end = off_struct + size_struct - 4
        assert struct.unpack(">I", b[end:end + 4])[0] == FDT_END
        extra = struct.pack(">I", FDT_BEGIN_NODE) + b"f@keroot\0\0\0\0" + struct.pack(">I", FDT_END_NODE)
        b[end:end] = extra
        n = len(extra)
        h[9] += n                       # size_dt_struct
        h[1] += n                       # totalsize
        if h[3] > off_struct:           # strings after the struct block
            h[3] += n
        if h[4] > off_struct:
            h[4] += n
        b[:40] = struct.pack(">10I", *h)
    elif op == "totalsize":
        h[1] = int(sys.argv[4], 0)
        b[:40] = struct.pack(">10I", *h)
    else:
        sys.exit("unknown operation " + op)
    open(out, "wb").write(b)


if __name__ == "__main__":
    main()
