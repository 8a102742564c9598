#!/usr/bin/env python3
"""Writes the image fixtures of the upload tests (Tests/Fixtures/images), small and committed, so
the tests need nothing but the files. Run it again after changing it: python3 make_images.py

Each file carries what the server must remove or refuse: GPS positions, a camera name, a comment,
an EXIF orientation, or a header that claims more pixels than any server should decode.
"""
import io
import os
import struct
import zlib

from PIL import Image, ImageDraw

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "images")
# Markers the tests look for in the processed files: none may survive.
CAMERA = "ParleyCam-9000"
COMMENT = b"parley-secret-comment"


def gradient(width, height, seed=0):
    image = Image.new("RGB", (width, height))
    draw = ImageDraw.Draw(image)
    for x in range(width):
        for y in range(height):
            draw.point((x, y), ((x * 255) // max(1, width - 1), (y * 255) // max(1, height - 1), (seed * 80) % 256))
    # A dark block in the top-left corner, so the tests can see which way up the image is.
    draw.rectangle((0, 0, width // 4, height // 4), fill=(0, 0, 0))
    return image


def exif_with_gps(orientation=None):
    exif = Image.Exif()
    exif[0x010F] = CAMERA  # Make
    exif[0x0110] = CAMERA  # Model
    if orientation:
        exif[0x0112] = orientation
    gps = exif.get_ifd(0x8825)
    gps[1] = "N"
    gps[2] = (51.0, 30.0, 26.0)  # 51°30'26" N: London
    gps[3] = "W"
    gps[4] = (0.0, 7.0, 39.0)
    return exif


def photo_jpeg():
    # 64 × 48 as stored, EXIF orientation 6 ("rotate 90° clockwise to view"): upright it is 48 × 64.
    image = gradient(64, 48)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90, exif=exif_with_gps(orientation=6), comment=COMMENT)
    return out.getvalue()


def gps_png():
    image = gradient(40, 30, seed=1)
    out = io.BytesIO()
    from PIL import PngImagePlugin
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", COMMENT.decode())
    image.save(out, "PNG", exif=exif_with_gps(), pnginfo=info)
    return out.getvalue()


def animated_gif():
    frames = [gradient(32, 24, seed=n) for n in range(3)]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0, comment=COMMENT)
    return out.getvalue()


def still_webp():
    out = io.BytesIO()
    gradient(50, 40, seed=2).save(out, "WEBP", quality=80, exif=exif_with_gps())
    return out.getvalue()


def wide_jpeg():
    # 640 × 400: bigger than every size the server makes, and not square, so each size shows how it
    # was fitted (320 × 200) or cropped (256 × 256, 64 × 64).
    out = io.BytesIO()
    gradient(64, 40, seed=3).resize((640, 400)).save(out, "JPEG", quality=80)
    return out.getvalue()


def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def bomb_png():
    # A valid PNG header claiming 100,000 × 100,000 pixels (10 gigapixels, 30 GB decoded), and a
    # few hundred bytes of compressed zero rows: the server must refuse it from the header alone.
    header = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0)
    rows = zlib.compress(b"\x00" * (1 + 3 * 100_000) * 4, 9)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")


def main():
    os.makedirs(HERE, exist_ok=True)
    files = {
        "photo-exif-gps.jpg": photo_jpeg(),
        "gps.png": gps_png(),
        "animated.gif": animated_gif(),
        "still.webp": still_webp(),
        "wide.jpg": wide_jpeg(),
        "bomb.png": bomb_png(),
    }
    for name, data in files.items():
        with open(os.path.join(HERE, name), "wb") as f:
            f.write(data)
        print(f"{name}: {len(data)} bytes")


if __name__ == "__main__":
    main()
