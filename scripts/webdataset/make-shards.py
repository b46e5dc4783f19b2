#!/usr/bin/env python3
"""Packs a `retrieve synth` folder into WebDataset tar shards, as open_clip and clip-retrieval
lay them out: KEY.png (or .jpg) beside KEY.txt (even shards: one caption a line) or KEY.json
(odd shards: {"caption": first, "captions": [all]}), adjacent in the tar, SHARD-sized.

    retrieve synth --out shapes --count 100000 --size 64
    scripts/webdataset/make-shards.py shapes shards --per-shard 5000   # shards/000000.tar …

Only the standard library; the members are written in data order so a shard streams."""
import argparse, collections, io, json, os, tarfile

def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("synth", help="folder written by retrieve synth (captions.tsv, images/)")
    p.add_argument("out", help="folder for the shards (created)")
    p.add_argument("--per-shard", type=int, default=5000)
    a = p.parse_args()
    captions = collections.OrderedDict()
    with open(os.path.join(a.synth, "captions.tsv"), encoding="utf-8") as f:
        for line in f:
            path, _, caption = line.rstrip("\n").partition("\t")
            captions.setdefault(path, []).append(caption)
    os.makedirs(a.out, exist_ok=True)
    items = list(captions.items())
    for shard, start in enumerate(range(0, len(items), a.per_shard)):
        name = os.path.join(a.out, "%06d.tar" % shard)
        with tarfile.open(name + ".tmp", "w", format=tarfile.USTAR_FORMAT) as tar:
            for path, texts in items[start:start + a.per_shard]:
                key = os.path.splitext(os.path.basename(path))[0]
                ext = os.path.splitext(path)[1]
                tar.add(os.path.join(a.synth, path), arcname=key + ext)
                if shard % 2 == 0:
                    data, suffix = ("\n".join(texts) + "\n").encode(), ".txt"
                else:
                    data, suffix = json.dumps({"caption": texts[0], "captions": texts}).encode(), ".json"
                info = tarfile.TarInfo(key + suffix)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
        os.rename(name + ".tmp", name)
        print(name)

main()
