#!/usr/bin/env python3
"""Build an image-caption retrieval set from one size of a freedesktop icon theme.

Every PNG icon of one pixel size becomes a picture, captioned from its file name and
category folder:

    actions/media-playback-start.png  ->  "media playback start (action)"
    mimetypes/text-x-python.png       ->  "text x python (file type)"

('-', '_', '.', '+' become spaces; the category folder becomes a singular label.)

Which files are used
    The theme may be laid out as THEME/SIZExSIZE/CATEGORY/*.png, THEME/base/SIZExSIZE/CATEGORY/*.png
    or THEME/CATEGORY/SIZExSIZE/*.png (also THEME/CATEGORY/SIZE/*.png); every layout found is used.
    Skipped: the 'animations' folder (sprite strips), dangling symlinks, files that do not decode,
    and files whose decoded pixel size is not SIZE x SIZE.
    Duplicates: files with identical decoded RGBA pixels (symlinks, aliases, copies) are one picture,
    stored once; it gets one caption per distinct file name (the category of the first such file,
    real files before symlinks, then in path order).  A caption text that would name more than one
    picture (e.g. "foo-bar" and "foo_bar") is ambiguous as a query and is dropped everywhere.

Output (OUT/NAME/), all paths relative to that folder
    images/CATEGORY/STEM.png   the original PNG bytes, unchanged (STEM keeps only [A-Za-z0-9_-])
    captions.tsv               image_path<TAB>caption, no header, one line per caption
    split.tsv                  image_path<TAB>train|val|test, no header; from the SHA-256 of the
                               image path (about 80/10/10, the same on every machine)
    README.txt                 source package and version, size, counts, licence (head of the
                               package's /usr/share/doc/PACKAGE/copyright)
    The output is deterministic (sorted orders, no timestamps).

Needs
    python3 and Pillow (pip install pillow, or apt-get install -y python3-pil), plus an icon theme,
    e.g.  apt-get install -y tango-icon-theme mate-icon-theme gnome-icon-theme

Usage
    python3 scripts/data/build_icon_theme.py --theme /usr/share/icons/Tango --size 32 --name tango --out /tmp/data
    python3 scripts/data/build_icon_theme.py --theme /usr/share/icons/mate  --size 48 --name mate  --out /tmp/data
    python3 scripts/data/build_icon_theme.py --theme /usr/share/icons/gnome --size 48 --name gnome --out /tmp/data
    python3 scripts/data/build_icon_theme.py --theme /usr/share/icons/gnome --list-sizes
      (prints the PNG file count of every size, to pick the richest one)
    --package PKG names the Debian package when it cannot be found from the theme path.
"""

import argparse
import collections
import glob
import hashlib
import io
import os
import re
import shutil
import subprocess
import sys

LABELS = {
    "actions": "action",
    "apps": "application",
    "categories": "category",
    "devices": "device",
    "emblems": "emblem",
    "emotes": "emote",
    "mimetypes": "file type",
    "places": "place",
    "status": "status",
}
SKIPPED_FOLDERS = {"animations"}
SIZE_DIR = re.compile(r"^(\d+)(?:x(\d+))?$")
LICENCE_LINES = 25


def label_of(category):
    if category in LABELS:
        return LABELS[category]
    return category[:-1] if category.endswith("s") and len(category) > 1 else category


def caption_words(stem):
    return " ".join(re.sub(r"[-_.+]", " ", stem).split())


def file_stem(stem):
    return re.sub(r"[^A-Za-z0-9_-]", "_", stem)


def split_for(relpath):
    bucket = int.from_bytes(hashlib.sha256(relpath.encode("utf-8")).digest()[:4], "big") % 100
    return "train" if bucket < 80 else ("val" if bucket < 90 else "test")


def size_of_dir(name):
    """Pixel size of a size folder name ('48x48' -> 48, '48' -> 48), None otherwise."""
    m = SIZE_DIR.match(name)
    if not m or (m.group(2) is not None and m.group(1) != m.group(2)):
        return None
    return int(m.group(1))


def category_dirs(theme):
    """Yield (size, category, folder) for every layout found under the theme."""
    for root in (theme, os.path.join(theme, "base")):
        if not os.path.isdir(root):
            continue
        for first in sorted(os.listdir(root)):
            fdir = os.path.join(root, first)
            if not os.path.isdir(fdir) or first == "base":
                continue
            size = size_of_dir(first)
            for second in sorted(os.listdir(fdir)):
                sdir = os.path.join(fdir, second)
                if not os.path.isdir(sdir):
                    continue
                if size is not None:          # SIZExSIZE/CATEGORY
                    yield size, second, sdir
                elif root == theme:           # CATEGORY/SIZExSIZE (or CATEGORY/SIZE)
                    s2 = size_of_dir(second)
                    if s2 is not None:
                        yield s2, first, sdir


def png_names(folder):
    return sorted(f for f in os.listdir(folder) if f.lower().endswith(".png"))


def owning_package(theme):
    """Debian package that installed the theme (dpkg -S, then the dpkg file lists)."""
    probe = os.path.join(theme, "index.theme")
    if not os.path.exists(probe):
        probe = theme
    try:
        out = subprocess.run(["dpkg", "-S", probe], capture_output=True, text=True, check=False).stdout
        for line in out.splitlines():
            if ":" in line:
                return line.split(":", 1)[0].split(",")[0].strip()
    except OSError:
        pass
    for lst in sorted(glob.glob("/var/lib/dpkg/info/*.list")):
        with open(lst, encoding="utf-8", errors="replace") as fh:
            if any(line.rstrip("\n") == probe for line in fh):
                return os.path.basename(lst)[:-5].split(":")[0]
    return None


def package_version(pkg):
    try:
        out = subprocess.run(["dpkg-query", "-W", "-f=${Version}", pkg],
                             capture_output=True, text=True, check=False)
        return out.stdout.strip() or None
    except OSError:
        return None


def licence_text(pkg):
    path = f"/usr/share/doc/{pkg}/copyright"
    if not pkg or not os.path.exists(path):
        return path, [], []
    with open(path, encoding="utf-8", errors="replace") as fh:
        lines = [line.rstrip("\n") for line in fh]
    licences = []
    for line in lines:
        if line.startswith("License:"):
            name = " ".join(line[len("License:"):].split())
            if name and name not in licences:
                licences.append(name)
    return path, lines[:LICENCE_LINES], licences


def list_sizes(theme):
    counts = collections.Counter()
    for size, category, folder in category_dirs(theme):
        if category not in SKIPPED_FOLDERS:
            counts[size] += len(png_names(folder))
    for size in sorted(counts):
        print(f"{size}x{size}\t{counts[size]} png files")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--theme", required=True, help="theme folder, e.g. /usr/share/icons/Tango")
    ap.add_argument("--size", type=int, help="pixel size, e.g. 32 for the 32x32 icons")
    ap.add_argument("--name", help="output folder name (default: theme folder name, lower case)")
    ap.add_argument("--out", default="/tmp/data", help="parent output folder (default /tmp/data)")
    ap.add_argument("--package", help="Debian package of the theme (default: asked from dpkg)")
    ap.add_argument("--list-sizes", action="store_true", help="print PNG counts per size and exit")
    args = ap.parse_args()

    theme = os.path.abspath(args.theme.rstrip("/"))
    if not os.path.isdir(theme):
        sys.exit(f"no theme folder {theme}; install it, e.g. apt-get install -y tango-icon-theme")
    if args.list_sizes:
        list_sizes(theme)
        return
    if not args.size:
        sys.exit("--size is required (see --list-sizes)")
    try:
        from PIL import Image
    except ImportError:
        sys.exit("Pillow is missing: pip install pillow (or apt-get install -y python3-pil)")

    size = args.size
    name = args.name or os.path.basename(theme).lower()
    package = args.package or owning_package(theme) or "unknown"
    folders = [(c, d) for s, c, d in category_dirs(theme) if s == size]
    if not folders:
        sys.exit(f"no {size}x{size} icon folders under {theme} (try --list-sizes)")

    n = collections.Counter()
    skipped = collections.Counter()
    pictures = {}  # pixel key -> list of (is_symlink, category, file name, theme-relative path, bytes)
    for category, folder in folders:
        for fn in png_names(folder):
            path = os.path.join(folder, fn)
            n["png files"] += 1
            link = os.path.islink(path)
            n["symlinks"] += link
            if category in SKIPPED_FOLDERS:
                skipped[f"folder '{category}'"] += 1
                continue
            if not os.path.exists(path):
                skipped["dangling symlink"] += 1
                continue
            with open(path, "rb") as fh:
                data = fh.read()
            try:
                with Image.open(io.BytesIO(data)) as im:
                    im.load()
                    if im.size != (size, size):
                        skipped[f"pixel size not {size}x{size}"] += 1
                        continue
                    rgba = im.convert("RGBA").tobytes()
            except Exception:  # noqa: BLE001 - any undecodable file is skipped and counted
                skipped["undecodable"] += 1
                continue
            key = hashlib.sha256(rgba).digest()
            pictures.setdefault(key, []).append((link, category, fn, os.path.relpath(path, theme), data))
    n["files used"] = sum(len(v) for v in pictures.values())

    # one stored file + one caption per distinct file name for every distinct picture
    records, taken = [], set()
    for key in sorted(pictures, key=lambda k: min(m[3] for m in pictures[k])):
        members = sorted(pictures[key], key=lambda m: (m[0], m[3]))
        _, category, fn, _, data = members[0]
        stem = file_stem(os.path.splitext(fn)[0])
        rel, k = f"images/{category}/{stem}.png", 2
        while rel.casefold() in taken:
            rel, k = f"images/{category}/{stem}_{k}.png", k + 1
        taken.add(rel.casefold())
        captions, names = [], set()
        for _, cat, f, _, _ in members:
            if f in names:
                continue
            names.add(f)
            text = f"{caption_words(os.path.splitext(f)[0])} ({label_of(cat)})"
            if text.casefold() not in {c.casefold() for c in captions}:
                captions.append(text)
        records.append({"rel": rel, "data": data, "captions": captions})

    owners = collections.defaultdict(set)
    for r in records:
        for c in r["captions"]:
            owners[c.casefold()].add(r["rel"])
    ambiguous = {c for c, o in owners.items() if len(o) > 1}
    dropped = []
    for r in records:
        keep = [c for c in r["captions"] if c.casefold() not in ambiguous]
        dropped += [f"{r['rel']}: {c}" for c in r["captions"] if c.casefold() in ambiguous]
        r["captions"] = keep
    dropped.sort()
    uncaptioned = sum(1 for r in records if not r["captions"])
    records = sorted((r for r in records if r["captions"]), key=lambda r: r["rel"])

    out_dir = os.path.join(args.out, name)
    if os.path.isdir(out_dir):
        shutil.rmtree(out_dir)
    os.makedirs(out_dir)
    splits = collections.Counter()
    with open(os.path.join(out_dir, "captions.tsv"), "w", encoding="utf-8", newline="\n") as cap, \
            open(os.path.join(out_dir, "split.tsv"), "w", encoding="utf-8", newline="\n") as spl:
        for r in records:
            dest = os.path.join(out_dir, r["rel"])
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            with open(dest, "wb") as fh:
                fh.write(r["data"])
            for c in r["captions"]:
                cap.write(f"{r['rel']}\t{c}\n")
            s = split_for(r["rel"])
            splits[s] += 1
            spl.write(f"{r['rel']}\t{s}\n")
    n_captions = sum(len(r["captions"]) for r in records)
    per_category = collections.Counter(r["rel"].split("/")[1] for r in records)

    version = package_version(package) if package != "unknown" else None
    lic_path, lic_head, lic_names = licence_text(package)
    lines = [
        f"{name}: image-caption retrieval set built from an icon theme",
        "",
        f"Source package: {package}" + (f" {version}" if version else ""),
        f"Theme folder:   {theme}",
        f"Icon size:      {size}x{size} PNG (files copied byte for byte)",
        f"Built by:       scripts/data/build_icon_theme.py --theme {theme} --size {size} --name {name}",
        "",
        "Counts",
        f"  PNG files in the {size}x{size} folders: {n['png files']} ({n['symlinks']} of them symlinks)",
    ]
    for why, count in sorted(skipped.items()):
        lines.append(f"  skipped, {why}: {count}")
    lines += [
        f"  files used: {n['files used']}",
        f"  distinct pictures (identical RGBA pixels merged): {len(pictures)}",
        f"  ambiguous captions dropped (same text for different pictures): {len(dropped)}"
        + (f", leaving {uncaptioned} pictures without a caption (not written)" if uncaptioned else ""),
        f"  pictures written: {len(records)}",
        f"  caption lines (captions.tsv): {n_captions}",
        f"  split (split.tsv, by SHA-256 of the image path): train {splits['train']}, "
        f"val {splits['val']}, test {splits['test']} pictures",
        "  pictures per category: " + ", ".join(f"{c} {k}" for c, k in sorted(per_category.items())),
    ]
    if dropped:
        lines += ["  dropped captions:"] + [f"    {d}" for d in dropped]
    lines += [
        "",
        "Captions: file name words + singular category, e.g. 'media playback start (action)'; one",
        "caption per distinct file name of the picture (aliases and symlinks give extra captions).",
        "",
        "Licence (License: fields of the copyright file, upstream and debian/ parts): "
        + ("; ".join(lic_names) if lic_names else "see the package copyright file"),
        f"First {len(lic_head)} lines of {lic_path}:",
        "",
    ]
    lines += ["  " + line if line else "" for line in lic_head]
    with open(os.path.join(out_dir, "README.txt"), "w", encoding="utf-8", newline="\n") as fh:
        fh.write("\n".join(lines).rstrip("\n") + "\n")

    print(f"{out_dir}: {len(records)} pictures, {n_captions} caption lines, "
          f"train/val/test {splits['train']}/{splits['val']}/{splits['test']} "
          f"({n['png files']} png files, {n['symlinks']} symlinks, {sum(skipped.values())} skipped, "
          f"{len(dropped)} ambiguous captions dropped)")


if __name__ == "__main__":
    main()
