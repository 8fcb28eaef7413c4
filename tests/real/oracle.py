#!/usr/bin/env python3
"""Differential oracle for one .deb: the members trustgate walked in data.tar
(`trustgate archive list --json`) against what dpkg-deb and GNU tar give for
the same package.

  tar:       `dpkg-deb --fsys-tarfile PKG | tar -tv --numeric-owner` -> names,
             types, sizes, link targets, in order
  dpkg-deb:  `dpkg-deb -x PKG DIR` -> the extracted tree; each file's SHA-256
             (a hard link: its target's), each symlink's target

Usage: oracle.py TRUSTGATE_JSON TAR_LISTING EXTRACTED_DIR
Prints one line per difference; exit 1 if any, 0 if none.
"""
import hashlib
import json
import os
import re
import stat
import sys


def norm(p):
    parts = [c for c in p.split('/') if c not in ('', '.')]
    return '/'.join(parts)


def tar_entries(listing):
    """GNU tar -tv lines: 'perm uid/gid size date time name[ -> target| link to target]'."""
    out = []
    rx = re.compile(r'^(\S)(\S{9})\s+\S+\s+(\d+)\s+\S+\s+\S+\s(.*)$')
    with open(listing, 'rb') as f:
        for raw in f:
            line = raw.decode('utf-8', 'surrogateescape').rstrip('\n')
            m = rx.match(line)
            if not m:
                raise SystemExit('oracle: cannot parse tar line: %r' % line)
            t, _perm, size, rest = m.groups()
            link = None
            if t == 'l':
                name, link = rest.split(' -> ', 1)
                kind = 'symlink'
            elif t == 'h' or ' link to ' in rest and t == '-':
                name, link = rest.split(' link to ', 1)
                kind = 'hardlink'
            elif t == 'd':
                name, kind = rest, 'dir'
            elif t == '-':
                name, kind = rest, 'file'
            else:
                name, kind = rest, 'special'
            out.append((norm(name), kind, int(size), link))
    return out


def sha256(path):
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for b in iter(lambda: f.read(1 << 20), b''):
            h.update(b)
    return h.hexdigest()


def main():
    tg_json, listing, root = sys.argv[1:4]
    with open(tg_json, encoding='utf-8', errors='surrogateescape') as f:
        doc = json.load(f)
    # members whose container is the top-level data.tar.* member (paths
    # join levels with '!', which a name may contain too: use the indices)
    ms = doc['members']
    data = [i for i, m in enumerate(ms) if m['parent'] == -1 and m['name'].startswith('data.tar')]
    tg = [m | {'norm': norm(m['name'])} for m in ms if data and m['parent'] == data[0]]
    tar = [e for e in tar_entries(listing) if e[0] != '']  # "./": the root
    diffs = []
    if len(tg) != len(tar):
        diffs.append('member count: trustgate %d, tar %d' % (len(tg), len(tar)))
    for i, (m, t) in enumerate(zip(tg, tar)):
        name, kind, size, link = t
        if m['norm'] != name:
            diffs.append('#%d name: trustgate %r, tar %r' % (i, m['norm'], name))
            break
        if m['type'] != kind:
            diffs.append('%s type: trustgate %s, tar %s' % (name, m['type'], kind))
        if kind == 'file' and m['size'] != size:
            diffs.append('%s size: trustgate %d, tar %d' % (name, m['size'], size))
        if kind == 'symlink' and m['link'] != link:
            diffs.append('%s target: trustgate %r, tar %r' % (name, m['link'], link))
        if kind == 'hardlink' and m['link'] != norm(link):
            diffs.append('%s hard link: trustgate %r, tar %r' % (name, m['link'], link))
        # content, from dpkg-deb's extraction
        path = os.path.join(root, name)
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            diffs.append('%s: not extracted by dpkg-deb' % name)
            continue
        if kind in ('file', 'hardlink'):
            if not stat.S_ISREG(st.st_mode):
                diffs.append('%s: dpkg-deb extracted a non-file' % name)
                continue
            want = m['sha256']
            if kind == 'hardlink':
                tgt = [x for x in tg if x['norm'] == m['link']]
                want = tgt[0]['sha256'] if tgt else None
            got = sha256(path)
            if want != got:
                diffs.append('%s sha256: trustgate %s, dpkg-deb %s' % (name, want, got))
        elif kind == 'symlink':
            if not stat.S_ISLNK(st.st_mode) or os.readlink(path) != m['link']:
                diffs.append('%s: dpkg-deb extracted another link' % name)
        elif kind == 'dir' and not stat.S_ISDIR(st.st_mode):
            diffs.append('%s: dpkg-deb extracted a non-directory' % name)
    for d in diffs[:20]:
        print(d)
    return 1 if diffs else 0


if __name__ == '__main__':
    sys.exit(main())
