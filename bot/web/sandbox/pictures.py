"""Photos a trainee's citizen can send: small PNGs drawn here in code (no image library, no files
to download), so every run has the same pictures and the bot relays real image bytes."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable
from functools import cache

WIDTH, HEIGHT = 192, 144
Pixel = tuple[int, int, int]


def encode_png(width: int, height: int, pixel: Callable[[int, int], Pixel]) -> bytes:
    """A truecolour PNG whose pixel (x, y) is ``pixel(x, y)``."""
    rows = bytearray()
    for y in range(height):
        rows.append(0)  # filter type "none" for every scanline
        for x in range(width):
            rows.extend(pixel(x, y))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(bytes(rows), 9))
        + chunk(b"IEND", b"")
    )


def _inside_ellipse(x: int, y: int, cx: float, cy: float, rx: float, ry: float) -> bool:
    return ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2 <= 1.0


def _pothole(x: int, y: int) -> Pixel:
    if y < 40:
        return (170, 200, 235)  # sky
    if _inside_ellipse(x, y, 96, 98, 46, 18):
        return (40, 38, 36) if _inside_ellipse(x, y, 96, 100, 38, 13) else (92, 84, 76)
    if 88 <= x <= 104 and y % 22 < 11 and y > 60:
        return (235, 220, 90)  # lane marking
    shade = 104 + (x * 7 + y * 13) % 9
    return (shade, shade, shade + 4)


def _garbage(x: int, y: int) -> Pixel:
    if y < 70:
        return (200, 215, 230)
    if 20 <= x <= 70 and 50 <= y <= 118:
        return (34, 120, 60) if y > 58 else (25, 90, 45)  # a container and its lid
    if _inside_ellipse(x, y, 126, 120, 56, 30):
        return ((120 + x * 5) % 200, (90 + y * 3) % 160, 60 + (x * y) % 90)  # an overflowing heap
    return (150, 140, 120)


def _lamp(x: int, y: int) -> Pixel:
    if 92 <= x <= 98 and y >= 30:
        return (60, 64, 70)  # the post
    if 70 <= x <= 98 and 24 <= y <= 32:
        return (60, 64, 70)  # the arm
    if _inside_ellipse(x, y, 72, 38, 10, 6):
        return (90, 90, 96)  # a dark, dead bulb
    if y > 126:
        return (40, 44, 40)
    star = (x * 31 + y * 17) % 97 == 0
    return (230, 230, 200) if star else (18, 24, 58)


def _leak(x: int, y: int) -> Pixel:
    brick = (y // 12 + (x + (y // 12 % 2) * 12) // 24) % 2
    mortar = y % 12 == 0 or (x + (y // 12 % 2) * 12) % 24 == 0
    base: Pixel = (200, 196, 186) if mortar else ((176, 82, 60) if brick else (160, 74, 54))
    if 80 <= x <= 112 and (x - 96) ** 2 < 300 - y:
        return (40, 90, 170)  # water running down the wall
    if _inside_ellipse(x, y, 96, 136, 60, 8):
        return (70, 120, 190)  # a puddle
    return base


PICTURES: dict[str, Callable[[int, int], Pixel]] = {
    "pothole": _pothole,
    "garbage": _garbage,
    "lamp": _lamp,
    "leak": _leak,
}


@cache
def picture(name: str) -> bytes:
    """The PNG of one of :data:`PICTURES` (KeyError for another name); drawn once per process."""
    return encode_png(WIDTH, HEIGHT, PICTURES[name])
