"""Tiny hand-made PNG files for Tests/FathomDataTests/PNGTests.swift, built with only
zlib + struct (independent of Fathom's encoder). Each image uses a chosen filter per row,
so the decoder's five filters are checked against bytes Fathom did not produce.
Run: python3 scripts/fixtures_png.py   (prints Swift array literals to paste into the test)"""
import struct
import zlib


def chunk(kind, body):
    data = kind + body
    return struct.pack(">I", len(body)) + data + struct.pack(">I", zlib.crc32(data) & 0xFFFFFFFF)


def paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def filter_row(kind, row, prior, bpp):
    out = []
    for x, v in enumerate(row):
        a = row[x - bpp] if x >= bpp else 0
        b = prior[x] if prior is not None else 0
        c = prior[x - bpp] if (prior is not None and x >= bpp) else 0
        pred = [0, a, b, (a + b) // 2, paeth(a, b, c)][kind]
        out.append((v - pred) & 0xFF)
    return bytes([kind]) + bytes(out)


def png(width, height, bit_depth, color_type, rows, filters, bpp, extra=b""):
    raw = b""
    prior = None
    for row, f in zip(rows, filters):
        raw += filter_row(f, row, prior, bpp)
        prior = row
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + extra + chunk(b"tEXt", b"Comment\x00fathom")
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def swift(name, data):
    print(f"    static let {name}: [UInt8] = [" + ", ".join(str(b) for b in data) + "]")


# RGB 4x5, one row per filter type 0..4; pixel (x, y) = (10x + 3y, 200 - 7x*y, 40y + x).
rgb_rows = [[v for x in range(4) for v in (10 * x + 3 * y, (200 - 7 * x * y) & 0xFF, 40 * y + x)] for y in range(5)]
swift("rgb4x5", png(4, 5, 8, 2, rgb_rows, [0, 1, 2, 3, 4], 3))
# RGBA 3x3, filters 4, 3, 1.
rgba_rows = [[v for x in range(3) for v in (50 * x, 60 * y, 255 - 30 * x - 40 * y, 100 + 50 * x)] for y in range(3)]
swift("rgba3x3", png(3, 3, 8, 6, rgba_rows, [4, 3, 1], 4))
# Gray + alpha 2x2, filters 2, 4.
ga_rows = [[10, 255, 20, 128], [30, 0, 40, 64]]
swift("grayAlpha2x2", png(2, 2, 8, 4, ga_rows, [2, 4], 2))
# 8-bit gray 5x2, filters 3, 2.
gray_rows = [[0, 50, 100, 150, 255], [255, 200, 10, 5, 1]]
swift("gray5x2", png(5, 2, 8, 0, gray_rows, [3, 2], 1))
# 2-bit palette 5x2 with transparency on entry 1: indices row 0: 0 1 2 3 0, row 1: 3 2 1 0 3.
def pack(indices, depth):
    bits = "".join(format(i, f"0{depth}b") for i in indices)
    bits += "0" * (-len(bits) % 8)
    return [int(bits[i:i + 8], 2) for i in range(0, len(bits), 8)]
plte = chunk(b"PLTE", bytes([255, 0, 0, 0, 255, 0, 0, 0, 255, 9, 9, 9])) + chunk(b"tRNS", bytes([255, 7]))
swift("palette5x2", png(5, 2, 2, 3, [pack([0, 1, 2, 3, 0], 2), pack([3, 2, 1, 0, 3], 2)], [0, 1], 1, plte))
# 1-bit gray 10x1: 1 0 1 1 0 0 1 0 0 1.
swift("bilevel10x1", png(10, 1, 1, 0, [pack([1, 0, 1, 1, 0, 0, 1, 0, 0, 1], 1)], [0], 1))
