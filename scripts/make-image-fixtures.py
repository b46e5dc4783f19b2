#!/usr/bin/env python3
"""Regenerates fixtures/images/ (committed; the tests need no Python).

PNGs are written by hand (struct + zlib) so every colour type, bit depth, tRNS and Adam7
interlacing is exactly what its name says. JPEGs use Pillow (pip install pillow); the YCCK
JPEG needs libjpeg itself, so a tiny C program is compiled with `cc -ljpeg` for it.
Pixel content is known: most images are four solid quadrants, listed in the tests.

Usage: python3 scripts/make-image-fixtures.py   (from the package root)
"""
import io
import os
import struct
import subprocess
import tempfile
import zlib

from PIL import Image, ImageOps

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "images")

RED, GREEN, BLUE, WHITE = (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255)


def chunk(kind, data):
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)


def pack_row(samples, bit_depth):
    """One row of samples (ints) as PNG bytes for the given bit depth."""
    if bit_depth == 8:
        return bytes(samples)
    if bit_depth == 16:
        return b"".join(struct.pack(">H", s) for s in samples)
    per_byte = 8 // bit_depth
    out = bytearray()
    for i in range(0, len(samples), per_byte):
        byte = 0
        group = samples[i:i + per_byte]
        for j in range(per_byte):
            byte = (byte << bit_depth) | (group[j] if j < len(group) else 0)
        out.append(byte)
    return bytes(out)


ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]


def png(name, width, height, color_type, bit_depth, pixel, palette=None, trns=None, interlace=False):
    """pixel(x, y) returns the tuple of samples of one pixel."""
    def raw(xs, ys):
        data = bytearray()
        for y in ys:
            samples = [s for x in xs for s in pixel(x, y)]
            data += b"\x00" + pack_row(samples, bit_depth)
        return bytes(data)

    if interlace:
        idat = b""
        for x0, y0, dx, dy in ADAM7:
            xs, ys = list(range(x0, width, dx)), list(range(y0, height, dy))
            if xs and ys:
                idat += raw(xs, ys)
    else:
        idat = raw(range(width), range(height))
    data = b"\x89PNG\r\n\x1a\n"
    data += chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 1 if interlace else 0))
    if palette:
        data += chunk(b"PLTE", b"".join(bytes(c) for c in palette))
    if trns is not None:
        data += chunk(b"tRNS", trns)
    data += chunk(b"IDAT", zlib.compress(idat, 9)) + chunk(b"IEND", b"")
    write(name, data)
    return data


def write(name, data):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)


def quadrant(x, y, w, h, tl, tr, bl, br):
    return (tl if x < w // 2 else tr) if y < h // 2 else (bl if x < w // 2 else br)


def quadrant_image(mode, w, h, tl, tr, bl, br):
    im = Image.new(mode, (w, h))
    for y in range(h):
        for x in range(w):
            im.putpixel((x, y), quadrant(x, y, w, h, tl, tr, bl, br))
    return im


def jpeg(name, im, **options):
    buffer = io.BytesIO()
    im.save(buffer, "JPEG", **options)
    write(name, buffer.getvalue())
    return buffer.getvalue()


YCCK_WRITER = r"""
#include <stdio.h>
#include <jpeglib.h>
int main(int argc, char **argv) {
    // 32x32 Adobe-inverted CMYK quadrants: red, green, blue, 50% grey (K only), stored as YCCK.
    static unsigned char pixels[32 * 32 * 4];
    const unsigned char q[4][4] = {{0,255,255,0}, {255,0,255,0}, {255,255,0,0}, {0,0,0,128}};
    for (int y = 0; y < 32; y++) for (int x = 0; x < 32; x++)
        for (int c = 0; c < 4; c++) pixels[(y * 32 + x) * 4 + c] = 255 - q[(y >= 16) * 2 + (x >= 16)][c];
    struct jpeg_compress_struct info; struct jpeg_error_mgr err;
    info.err = jpeg_std_error(&err);
    jpeg_create_compress(&info);
    FILE *f = fopen(argv[1], "wb");
    jpeg_stdio_dest(&info, f);
    info.image_width = 32; info.image_height = 32; info.input_components = 4;
    info.in_color_space = JCS_CMYK;
    jpeg_set_defaults(&info);
    jpeg_set_colorspace(&info, JCS_YCCK);
    jpeg_set_quality(&info, 95, TRUE);
    for (int i = 0; i < 4; i++) { info.comp_info[i].h_samp_factor = 1; info.comp_info[i].v_samp_factor = 1; }
    jpeg_start_compress(&info, TRUE);
    while (info.next_scanline < 32) {
        JSAMPROW row = pixels + info.next_scanline * 32 * 4;
        jpeg_write_scanlines(&info, &row, 1);
    }
    jpeg_finish_compress(&info);
    fclose(f);
    return argc > 2;
}
"""


def make_ycck():
    with tempfile.TemporaryDirectory() as tmp:
        src, exe = os.path.join(tmp, "ycck.c"), os.path.join(tmp, "ycck")
        with open(src, "w") as f:
            f.write(YCCK_WRITER)
        subprocess.check_call(["cc", "-O1", src, "-o", exe, "-ljpeg"])
        subprocess.check_call([exe, os.path.join(OUT, "ycck.jpg")])


# Pillow's exif_transpose undoes orientation o with these operations; we store the inverse.
STORE_FOR_ORIENTATION = {
    1: None, 2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM, 5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_90,
    7: Image.Transpose.TRANSVERSE, 8: Image.Transpose.ROTATE_270,
}


def make_orientations():
    upright = quadrant_image("RGB", 32, 16, RED, GREEN, BLUE, WHITE)
    for o, op in STORE_FOR_ORIENTATION.items():
        stored = upright if op is None else upright.transpose(op)
        exif = Image.Exif()
        exif[0x0112] = o
        data = jpeg(f"orientation-{o}.jpg", stored, quality=95, subsampling=0, exif=exif.tobytes())
        check = ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert("RGB")
        assert check.size == (32, 16) and check.getpixel((4, 4))[0] > 200, f"orientation {o}"


def main():
    os.makedirs(OUT, exist_ok=True)
    w = h = 16
    q = lambda tl, tr, bl, br: (lambda x, y: quadrant(x, y, w, h, tl, tr, bl, br))
    # PNG, every colour type and depth; quadrants top-left, top-right, bottom-left, bottom-right.
    png("grey-1bit.png", w, h, 0, 1, q((0,), (1,), (1,), (0,)))
    png("palette-2bit.png", w, h, 3, 2, q((0,), (1,), (2,), (3,)), palette=[RED, GREEN, BLUE, WHITE])
    png("palette-4bit.png", w, h, 3, 4, q((9,), (10,), (11,), (15,)),
        palette=[(i * 10, i * 10, i * 10) for i in range(9)] + [RED, GREEN, BLUE, (1, 1, 1), (2, 2, 2), (3, 3, 3), WHITE])
    png("grey-8bit.png", w, h, 0, 8, q((0,), (85,), (170,), (255,)))
    png("grey-alpha.png", w, h, 4, 8, q((0, 255), (0, 0), (0, 128), (100, 64)))
    png("palette-trns.png", w, h, 3, 8, q((0,), (1,), (2,), (3,)), palette=[RED, GREEN, BLUE, WHITE],
        trns=bytes([255, 0, 128]))
    rgb8 = png("rgb-8bit.png", w, h, 2, 8, q(RED, GREEN, BLUE, WHITE))
    png("rgb-16bit.png", w, h, 2, 16, q((65535, 0, 0), (0, 65535, 0), (0x1234, 0x8080, 0xFFFF), (65535, 65535, 65535)))
    png("rgba-8bit.png", w, h, 6, 8, q((255, 0, 0, 255), (0, 255, 0, 0), (0, 0, 255, 128), (10, 20, 30, 200)))
    png("rgb-adam7.png", 13, 11, 2, 8, lambda x, y: (x * 19, y * 23, (x * 7 + y * 11) % 256), interlace=True)
    # Broken PNGs.
    write("truncated.png", rgb8[: len(rgb8) // 2])
    bad = bytearray(rgb8)
    idat = bad.index(b"IDAT")
    length = struct.unpack(">I", bad[idat - 4:idat])[0]
    bad[idat + 4 + length] ^= 0xFF  # first byte of the IDAT CRC
    write("bad-crc.png", bytes(bad))
    bomb = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 100000, 100000, 8, 2, 0, 0, 0))
    bomb += chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b"")
    write("bomb-100000x100000.png", bomb)
    write("png-named.jpg", rgb8)
    write("text.jpg", b"hello world, I am not a picture\n")
    write("empty.png", b"")

    # JPEG: 32x32 quadrants, 4:4:4 so chroma does not bleed across quadrant borders.
    rgb = quadrant_image("RGB", 32, 32, RED, GREEN, BLUE, WHITE)
    baseline = jpeg("baseline.jpg", rgb, quality=95, subsampling=0)
    jpeg("progressive.jpg", rgb, quality=95, subsampling=0, progressive=True)
    jpeg("grey.jpg", quadrant_image("L", 32, 32, 0, 85, 170, 255), quality=95)
    # Pillow writes CMYK inverted (Adobe convention) with an Adobe marker.
    jpeg("cmyk.jpg", quadrant_image("CMYK", 32, 32, (0, 255, 255, 0), (255, 0, 255, 0), (255, 255, 0, 0), (0, 0, 0, 128)),
         quality=95)
    make_ycck()
    make_orientations()
    write("truncated.jpg", baseline[: len(baseline) // 2])


if __name__ == "__main__":
    main()
