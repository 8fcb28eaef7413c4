#!/usr/bin/env python3
"""Summary of tests/real/deb_one.sh lines: approved / rejected by reason /
undecided per tier, oracle results, crashes; TAP-style ok/not ok lines."""
import collections
import sys

rows = [l.rstrip('\n').split('\t') for l in open(sys.argv[1], encoding='utf-8', errors='replace') if l.strip()]
indexed = set(l.strip() for l in open(sys.argv[4])) if len(sys.argv) > 4 else set()
for r in rows:
    r[7] = 'yes' if r[7] in indexed else 'no'   # the package's SHA-256 -> in apt's indexes?
total, secs = int(sys.argv[2]), int(sys.argv[3])
fail = 0


def line(ok, text):
    global fail
    fail += 0 if ok else 1
    print(('ok - ' if ok else 'not ok - ') + text)


print('# real Debian packages: %d checked in %d s' % (len(rows), secs))
print('# %-6s %9s %9s %9s   %s' % ('tier', 'approved', 'rejected', 'exit 2', 'rejections by reason'))
for tier, (ie, ic) in (('1', (1, 2)), ('3', (3, 4))):
    c = collections.Counter(r[ie] for r in rows)
    reasons = collections.Counter()
    for r in rows:
        if r[ie] in ('1', '2'):
            for code in (r[ic].split(',') if r[ie] == '1' else ['exit2']):
                reasons[code] += 1
    print('# %-6s %9d %9d %9d   %s' % (tier, c['0'], c['1'], c['2'],
          ', '.join('%s %d' % kv for kv in reasons.most_common())))
    for r in rows:
        if r[ie] != '0':
            print('#   tier %s %s exit %s: %s' % (tier, r[0], r[ie], r[ic]))
apt_ok = [r for r in rows if r[7] == 'yes']
apt_not = [r for r in rows if r[7] != 'yes']
print('# apt chain (tier 3): %d packages in the local indexes (apt-helper), %d approved; %d not in them, %d approved' %
      (len(apt_ok), sum(1 for r in apt_ok if r[5] == '0'), len(apt_not), sum(1 for r in apt_not if r[5] == '0')))
# Through the apt chain, a package of the indexes must get the verdict the
# detached signature gets at the same tier: approved, or refused for its
# content with the same reasons (setuid files, say) -- never for the chain.
def chain_ok(r):
    return r[5] == '0' or (r[5] == r[3] and r[6] == r[4])
for r in rows:
    if (r[7] == 'yes' and not chain_ok(r)) or (r[7] != 'yes' and r[5] == '0'):
        print('#   apt %s exit %s (in the indexes: %s): %s' % (r[0], r[5], r[7], r[6]))
orc = collections.Counter(r[8] for r in rows)
print('# oracle: %d same, %d different, %d skipped' % (orc['ok'], orc['diff'], orc['skip']))
crashes = [r for r in rows if len(r) > 9 and r[9]]
line(len(rows) == total, 'real/debs: every package gave a result line (%d of %d)' % (len(rows), total))
line(not crashes, 'real/debs: no crash and no sanitizer report%s' %
     ('' if not crashes else ': ' + '; '.join('%s %s' % (r[0], r[9]) for r in crashes[:10])))
line(all(chain_ok(r) for r in apt_ok), 'real/debs: every package in the local indexes verified through Debian\'s signatures (%d: %d approved, %d refused at tier 3 for their content exactly as with the detached signature)' % (len(apt_ok), sum(1 for r in apt_ok if r[5] == '0'), sum(1 for r in apt_ok if r[5] != '0' and chain_ok(r))))
line(all(r[5] != '0' for r in apt_not), 'real/debs: no package outside the local indexes approved through them (%d)' % len(apt_not))
line(orc['diff'] == 0, 'real/debs: the members trustgate walks equal dpkg-deb/tar (%d differences)' % orc['diff'])
a1 = sum(1 for r in rows if r[1] == '0')
a3 = sum(1 for r in rows if r[3] == '0')
line(a1 * 1000 >= 995 * len(rows), 'real/debs: tier 1 approved %d of %d (%.2f%%, goal >= 99.5%%)' % (a1, len(rows), 100.0 * a1 / max(1, len(rows))))
line(a3 * 100 >= 97 * len(rows), 'real/debs: tier 3 approved %d of %d (%.2f%%, goal >= 97%%)' % (a3, len(rows), 100.0 * a3 / max(1, len(rows))))
sys.exit(1 if fail else 0)
