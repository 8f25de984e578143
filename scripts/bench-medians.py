#!/usr/bin/env python3
"""Medians over several runs of scripts/bench-compare.sh.

    scripts/bench-medians.py run1.txt run2.txt run3.txt

Reads the tables bench-compare.sh prints (its standard output), and prints a
Markdown table of each cell's median ratio (Switchboard / NIO), the geometric
mean of the median ratios per mode, each run's own geometric means, and each
cell's median msgs/s of both servers with the ratio of every run, and the
handshakes rows' median ratio. The ratio of a
cell is taken within one run (both servers under the same machine state), and
medians are taken over those ratios.

Tables of more than two servers (bench-compare.sh with SERVERS=..., issue 20) are read
by their column header instead: each cell's median msgs/s of every server, median
ratio of every compared server to the baseline, and per mode the geometric means.
"""
import sys, statistics, math, re


def server_columns(path):
    """The servers of a table (the names before 'msg/s' in its header) and its ratio headers."""
    for line in open(path):
        p = line.split()
        if p and p[0] == "mode":
            servers = [p[i - 1] for i in range(len(p)) if p[i] == "msg/s"]
            after = p[max(i for i, t in enumerate(p) if t == "msg/s") + 1:]
            ratios = []
            for t in after:
                if t == "ratio" or "/" in t:
                    ratios.append(t)
                else:
                    break
            return servers, ratios
    return None, None


def multi(paths):
    """Medians over runs of a table of any number of servers."""
    servers, ratio_heads = server_columns(paths[0])
    for f in paths[1:]:
        if server_columns(f) != (servers, ratio_heads):
            sys.exit(f"{f}: not the same servers as {paths[0]}")
    n, r = len(servers), len(ratio_heads)
    runs = []
    for f in paths:
        cells = {}
        for line in open(f):
            p = line.split()
            if len(p) >= 3 + n + r and p[0] in ("pingpong", "pipelined", "handshakes"):
                num = lambda t: float(t) if re.match(r"^[0-9.]+$", t) else None
                cells[(p[0], int(p[1]), int(p[2]))] = ([num(t) for t in p[3:3 + n]], [num(t) for t in p[3 + n:3 + n + r]])
        runs.append(cells)
    keys = sorted(set().union(*[c.keys() for c in runs]), key=lambda k: (("pingpong", "pipelined", "handshakes").index(k[0]), k[1], k[2]))
    med = lambda v: statistics.median(v) if v else None
    fmt = lambda v, spec: "-" if v is None else format(v, spec)
    print("| mode | size | conns | " + " | ".join(f"{s} msg/s" for s in servers) + "".join(f" | {h}" for h in ratio_heads) + " |")
    print("|" + "---|" * (3 + n + r))
    meds = {}
    for k in keys:
        rates = [med([c[k][0][i] for c in runs if k in c and c[k][0][i] is not None]) for i in range(n)]
        ratios = [med([c[k][1][j] for c in runs if k in c and c[k][1][j] is not None]) for j in range(r)]
        meds[k] = ratios
        print(f"| {k[0]} | {k[1]} | {k[2]} | " + " | ".join(fmt(x, ".0f") for x in rates) + "".join(f" | {fmt(x, '.2f')}" for x in ratios) + " |")
    print()
    for m in ("pingpong", "pipelined", "handshakes"):
        for j, h in enumerate(ratio_heads):
            v = [meds[k][j] for k in keys if k[0] == m and meds[k][j] is not None]
            if v:
                g = math.exp(sum(math.log(x) for x in v) / len(v))
                print(f"{m} {h}: geometric mean of median ratios {g:.2f}; {sum(1 for x in v if x >= 1)} of {len(v)} cells >= 1; lowest {min(v):.2f}")
    print(f"({len(paths)} runs; ratios are taken within a run, then their median)")


if len(sys.argv) > 1 and server_columns(sys.argv[1])[0] not in (None, ["sb", "nio"], ["sb", "hb"]):
    multi(sys.argv[1:])
    sys.exit(0)
runs=[]
for f in sys.argv[1:]:
    cells={}
    for line in open(f):
        p=line.split()
        if len(p)>=6 and p[0] in ("pingpong","pipelined","handshakes") and re.match(r'^[0-9.]+$',p[5]):
            cells[(p[0],int(p[1]),int(p[2]))]=(float(p[3]),float(p[4]),float(p[5]))
    runs.append(cells)
keys=sorted(set().union(*[r.keys() for r in runs]), key=lambda k:(k[0]!="pingpong",k[1],k[2]))
echo=[k for k in keys if k[0]!="handshakes"]
sizes=sorted({k[1] for k in echo}); conns=sorted({k[2] for k in echo})
names={16:"16 B",128:"128 B",1024:"1 KiB",16384:"16 KiB",131072:"128 KiB"}
med={}
for k in keys:
    rs=[r[k][2] for r in runs if k in r]
    med[k]=(statistics.median(rs), statistics.median([r[k][0] for r in runs if k in r]), statistics.median([r[k][1] for r in runs if k in r]), rs)
hdr="| size | "+" | ".join(f"pingpong c={c}" for c in conns)+" | "+" | ".join(f"pipelined c={c}" for c in conns)+" |"
print(hdr); print("|"+"---|"*(1+2*len(conns)))
for s in sizes:
    row=[names.get(s,str(s))]
    for m in ("pingpong","pipelined"):
        for c in conns:
            k=(m,s,c); row.append(f"{med[k][0]:.2f}" if k in med else "-")
    print("| "+" | ".join(row)+" |")
print()
for m in ("pingpong","pipelined"):
    v=[med[k][0] for k in keys if k[0]==m]
    if not v: continue
    g=math.exp(sum(math.log(x) for x in v)/len(v))
    print(f"{m}: geometric mean of median ratios {g:.2f}; {sum(1 for x in v if x>=1)} of {len(v)} cells >= 1; lowest {min(v):.2f}")
    # per-run geomeans
    per=[]
    for r in runs:
        vv=[r[k][2] for k in r if k[0]==m]
        if vv: per.append(math.exp(sum(math.log(x) for x in vv)/len(vv)))
    print(f"   per-run geometric means: {', '.join(f'{x:.2f}' for x in per)}")
for k in keys:
    if k[0]=="handshakes":
        print(f"handshakes c={k[2]}: median ratio {med[k][0]:.2f} (median handshakes/s {med[k][1]:.0f} / {med[k][2]:.0f})")
print()
print("median msgs/s (switchboard / nio):")
for k in keys:
    print(f"  {k[0]:9s} {k[1]:6d} c={k[2]:3d}  {med[k][1]:9.0f} / {med[k][2]:9.0f}  ratios {', '.join(f'{x:.2f}' for x in med[k][3])}")
