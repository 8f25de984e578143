#!/usr/bin/env python3
"""What zlib's compression level buys with Switchboard's permessage-deflate settings.

    scripts/deflate-levels.py [FILE ...]

Each file is cut into messages of 128 B, 1 KiB and 16 KiB and sent through one compressor
per file and size, as one connection with context takeover would (raw deflate, a 12-bit
window, memory level 5: SwitchboardCore's defaults; a sync flush per message, its 4-byte
tail dropped as RFC 7692 section 7.2.1 says). It prints, per level, the compressed bytes as
a share of the original and the compressor's CPU time per MB of input, so the default level
can be chosen on figures (Benchmarks/NIOEcho/README.md, round 6). Without arguments it uses
text files this machine is likely to have: JSON, XML and HTML.
"""
import os
import sys
import time
import zlib

DEFAULT_FILES = [
    "/usr/share/xml/iso-codes/iso_3166-2.xml",
    "/usr/share/dbus-1/interfaces/org.freedesktop.PackageKit.Transaction.xml",
]
LEVELS = [1, 3, 6, 9]
SIZES = [128, 1024, 16384]


def default_files():
    found = [f for f in DEFAULT_FILES if os.path.exists(f)]
    for root, suffix in [(os.path.expanduser("~/.pyenv"), ".json"), (os.path.expanduser("~/.rustup"), ".html"), ("/usr/share/doc", ".html")]:
        if any(f.endswith(suffix) for f in found):
            continue
        for directory, _, names in os.walk(root):
            path = next((os.path.join(directory, n) for n in names if n.endswith(suffix)
                         and os.path.getsize(os.path.join(directory, n)) > 200_000), None)
            if path:
                found.append(path)
                break
    return found


def measure(data, size, level):
    compressor = zlib.compressobj(level, zlib.DEFLATED, -12, 5)
    out = 0
    start = time.process_time()
    for offset in range(0, len(data), size):
        piece = compressor.compress(data[offset : offset + size]) + compressor.flush(zlib.Z_SYNC_FLUSH)
        out += len(piece) - 4
    return out, time.process_time() - start


def main():
    files = sys.argv[1:] or default_files()
    if not files:
        sys.exit("no input files: name some")
    print(f"{'file':40} {'size':>6} " + " ".join(f"{'L' + str(level) + ' bytes':>9} {'ms/MB':>6}" for level in LEVELS))
    totals = {level: [0, 0.0] for level in LEVELS}
    original = 0
    for path in files:
        data = open(path, "rb").read()[: 4 << 20]
        for size in SIZES:
            row = []
            original += len(data)
            for level in LEVELS:
                out, seconds = measure(data, size, level)
                totals[level][0] += out
                totals[level][1] += seconds
                row.append(f"{out / len(data):>9.1%} {seconds * 1000 / (len(data) / 1e6):>6.1f}")
            print(f"{os.path.basename(path)[:40]:40} {size:>6} " + " ".join(row))
    base_bytes, base_time = totals[6]
    print("\nall files and sizes, against level 6:")
    for level in LEVELS:
        out, seconds = totals[level]
        print(f"  level {level}: {out / original:.1%} of the input, {out / base_bytes:.3f}x level 6's bytes, "
              f"{base_time / seconds:.2f}x level 6's speed")


if __name__ == "__main__":
    main()
