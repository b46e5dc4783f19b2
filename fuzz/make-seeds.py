#!/usr/bin/env python3
"""Writes the fuzzers' seed corpora: small PNGs and JPEGs in every layout the decoders handle
(PNG: grey, grey+alpha, palette with tRNS, RGB, RGBA, 1/2/4/16-bit, Adam7; JPEG: baseline,
progressive, greyscale, 4:4:4, CMYK, restart markers, EXIF orientations), each a few hundred
bytes. Needs Pillow; the seeds it wrote are committed, so fuzzing needs only clang."""
import io, os, struct, sys, zlib
from PIL import Image

here = os.path.dirname(os.path.abspath(__file__))

def picture(mode, size=(11, 7)):
    im = Image.new("RGB", size)
    im.putdata([((x * 37) % 256, (y * 53) % 256, ((x + y) * 29) % 256) for y in range(size[1]) for x in range(size[0])])
    return im.convert(mode) if mode != "RGB" else im

def save(folder, name, data):
    os.makedirs(os.path.join(here, "seeds", folder), exist_ok=True)
    with open(os.path.join(here, "seeds", folder, name), "wb") as f:
        f.write(data)

def encode(im, fmt, **options):
    out = io.BytesIO()
    im.save(out, fmt, **options)
    return out.getvalue()

def png_chunk(kind, body):
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

def raw_png(width, height, depth, colour, rows, interlace=0):
    """A PNG of the given bit depth and colour type from already-filtered scanlines."""
    ihdr = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, interlace)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", zlib.compress(rows)) + png_chunk(b"IEND", b"")

# PNG
for mode in ["L", "LA", "RGB", "RGBA", "P", "1"]:
    save("png", f"{mode.lower()}.png", encode(picture(mode), "PNG"))
palette = picture("P")
palette.info["transparency"] = 3
save("png", "palette-trns.png", encode(palette, "PNG", transparency=3))
save("png", "grey16.png", encode(picture("L").convert("I;16"), "PNG"))
for depth in [2, 4]:
    width, height = 9, 5
    row_bytes = (width * depth + 7) // 8
    rows = b"".join(b"\x00" + bytes((y * 17 + i * 29) % 256 for i in range(row_bytes)) for y in range(height))
    save("png", f"grey{depth}.png", raw_png(width, height, depth, 0, rows))
rgb16 = b"".join(b"\x00" + bytes((y * 7 + i * 13) % 256 for i in range(6 * 6)) for y in range(4))
save("png", "rgb16.png", raw_png(6, 4, 16, 2, rgb16))
# Adam7 passes of an 8×8 RGB picture: 7 reduced images, each row filtered with type 0.
passes = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
data = b""
for x0, y0, dx, dy in passes:
    w, h = len(range(x0, 8, dx)), len(range(y0, 8, dy))
    data += b"".join(b"\x00" + bytes((y * 31 + i * 7) % 256 for i in range(3 * w)) for y in range(h))
save("png", "interlaced.png", raw_png(8, 8, 8, 2, data, interlace=1))

# JPEG
base = picture("RGB", (24, 17))
save("jpeg", "baseline.jpg", encode(base, "JPEG", quality=75))
save("jpeg", "progressive.jpg", encode(base, "JPEG", quality=60, progressive=True))
save("jpeg", "grey.jpg", encode(base.convert("L"), "JPEG", quality=70))
save("jpeg", "444.jpg", encode(base, "JPEG", quality=80, subsampling=0))
save("jpeg", "cmyk.jpg", encode(base.convert("CMYK"), "JPEG", quality=70))
save("jpeg", "restart.jpg", encode(base, "JPEG", quality=70, restart_marker_blocks=1))
for orientation in [3, 6, 8]:
    exif = Image.Exif()
    exif[0x0112] = orientation
    save("jpeg", f"exif-{orientation}.jpg", encode(base, "JPEG", quality=50, exif=exif.tobytes()))
print("seeds written to", os.path.join(here, "seeds"), file=sys.stderr)
