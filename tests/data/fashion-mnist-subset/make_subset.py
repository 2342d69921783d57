#!/usr/bin/env python3
"""Cuts the Fashion-MNIST subset the tests use from the full data set.

usage: python3 make_subset.py [SOURCE_DIR]   (default /usr/share/datasets/fashion-mnist, the
Debian package dataset-fashion-mnist)

Keeps the first TRAIN training images and the first TEST test images, in file order, with their
labels, as IDX files gzipped with mtime 0 (the output is byte-for-byte reproducible), written
next to this script.
"""
import gzip
import os
import struct
import sys

TRAIN, TEST = 5000, 1000


def cut(src, dst, n):
    with gzip.open(src, "rb") as f:
        data = f.read()
    magic, count = struct.unpack(">II", data[:8])
    dims = magic & 0xFF
    shape = struct.unpack(">" + "I" * (dims - 1), data[8 : 4 + 4 * dims])
    item = 1
    for d in shape:
        item *= d
    head = 4 + 4 * dims
    if count < n:
        sys.exit(f"{src}: {count} items, fewer than {n}")
    out = struct.pack(">II", magic, n) + data[8:head] + data[head : head + n * item]
    with open(dst, "wb") as raw:
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as g:
            g.write(out)


def main():
    source = sys.argv[1] if len(sys.argv) > 1 else "/usr/share/datasets/fashion-mnist"
    here = os.path.dirname(os.path.abspath(__file__))
    for split, n in (("train", TRAIN), ("t10k", TEST)):
        for kind in ("images-idx3", "labels-idx1"):
            name = f"{split}-{kind}-ubyte.gz"
            cut(os.path.join(source, name), os.path.join(here, name), n)
            print(f"{name}: first {n}")


main()
