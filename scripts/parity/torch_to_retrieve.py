#!/usr/bin/env python3
"""Moves PyTorch reference models (../shared/bench/torch_ref.py) into retrieve's model format.

  torch_to_retrieve.py init  --seed S --template OURS.safetensors --out INIT.safetensors
      the reference's initial weights for seed S (what `torch_ref.py --seed S` starts from),
      for `retrieve train --init INIT.safetensors`: both then start from the same point.
  torch_to_retrieve.py train --template OURS.safetensors --out MODEL.safetensors -- TORCH_REF_ARGS
      trains with torch_ref.py (same arguments) and writes the trained model, for `retrieve eval`.

TEMPLATE is any retrieve model trained on the same captions: its configuration and vocabulary
are kept (rows of the reference's word table are matched by word); its architecture must be the
reference's (`--arch reference`) or, with `--norm batch --pos-emb`, ours (`--arch standard`). Needs the peers' Python environment (torch, numpy, PIL)."""
import argparse
import json
import os
import struct
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "shared", "bench"))
import torch_ref  # noqa: E402

MASK = (1 << 64) - 1


def _round(lane, word):
    x = ((lane ^ word) * 0x9FB21C651E98DF25) & MASK
    return ((x << 29) | (x >> 35)) & MASK


def checksum64(data):
    """retrieve's Checksum64 (Sources/Neural/IO/Checksum.swift) over `data`, as 16 hex digits."""
    lanes = [0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0x85EBCA77C2B2AE63]
    whole = len(data) // 32 * 32
    for i, word in enumerate(np.frombuffer(data[:whole], dtype="<u8").tolist()):
        lanes[i & 3] = _round(lanes[i & 3], word)
    for i, byte in enumerate(data[whole:]):
        lanes[i % 4] = _round(lanes[i % 4], byte + (i << 8))
    a, b, c, d = lanes
    rot = lambda v, r: ((v << r) | (v >> (64 - r))) & MASK  # noqa: E731
    h = (a + rot(b, 1) + rot(c, 2) + rot(d, 3) + len(data)) & MASK
    for mult in (0xFF51AFD7ED558CCD, 0xC4CEB9FE1A85EC53):
        h ^= h >> 33
        h = (h * mult) & MASK
    h ^= h >> 33
    return "%016x" % h


def read_header(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        return json.loads(f.read(n))


def retrieve_tensors(model, vocab, words, max_tokens):
    """The reference's state dict under retrieve's names and shapes."""
    sd = {k: v.detach().float().contiguous().numpy() for k, v in model.state_dict().items()
          if not k.endswith("num_batches_tracked")}
    missing = [w for w in words[2:] if w not in vocab.stoi]
    if missing:
        sys.exit(f"torch_to_retrieve: {len(missing)} template words are not in the reference's vocabulary "
                 f"(e.g. {missing[0]!r}): was the template trained on the same captions?")
    rows = [torch_ref.PAD, torch_ref.UNK] + [vocab.stoi[w] for w in words[2:]]
    t = {"logit_scale": sd["logit_scale"].reshape(1), "text.tokens.weight": sd["text.tok.weight"][rows],
         "text.attention.query": sd["text.query"]}
    for ours, theirs in (("text.attention.key", "text.key"), ("text.attention.value", "text.value"),
                         ("text.proj", "text.proj"), ("image.proj", "image.proj")):
        t[ours + ".weight"], t[ours + ".bias"] = sd[theirs + ".weight"], sd[theirs + ".bias"]
    if "text.pos.weight" in sd:
        t["text.position.weight"] = sd["text.pos.weight"][:max_tokens]
    # image.features is conv[, batch norm], ReLU[, pool] per block: the n-th conv and the n-th norm.
    convs = sorted({int(k.split(".")[2]) for k in sd if k.startswith("image.features.") and sd[k].ndim == 4})
    norms = sorted({int(k.split(".")[2]) for k in sd if k.startswith("image.features.") and k.endswith("running_mean")})
    for i, layer in enumerate(convs):
        prefix = f"image.features.{layer}."
        t[f"image.conv{i + 1}.weight"] = sd[prefix + "weight"]
        if prefix + "bias" in sd:
            t[f"image.conv{i + 1}.bias"] = sd[prefix + "bias"]
    for i, layer in enumerate(norms):
        for field in ("weight", "bias", "running_mean", "running_var"):
            t[f"image.norm{i + 1}.{field}"] = sd[f"image.features.{layer}.{field}"]
    return {k: np.ascontiguousarray(v, dtype="<f4") for k, v in t.items()}


def write_model(model, vocab, template, out):
    header = read_header(template)
    meta = dict(header.pop("__metadata__"))
    tensors = retrieve_tensors(model, vocab, json.loads(meta["vocabulary"])["words"],
                               json.loads(meta["config"])["maxTokens"])
    for name, info in header.items():
        if name not in tensors or list(tensors[name].shape) != info["shape"]:
            sys.exit(f"torch_to_retrieve: {name}: the template has {info['shape']}, the reference "
                     f"{list(tensors[name].shape) if name in tensors else 'nothing'}")
    stream = bytearray()
    for text in (meta["config"], meta["vocabulary"]):
        stream += text.encode() + b"\xff"
    for name in sorted(tensors):
        stream += name.encode() + b"\xff" + ",".join(map(str, tensors[name].shape)).encode() + b"\xff"
        stream += tensors[name].tobytes()
    meta["fingerprint"] = checksum64(bytes(stream))
    out_header, offset = {"__metadata__": meta}, 0
    for name in sorted(tensors):
        size = tensors[name].nbytes
        out_header[name] = {"dtype": "F32", "shape": list(tensors[name].shape), "data_offsets": [offset, offset + size]}
        offset += size
    raw = json.dumps(out_header).encode()
    raw += b" " * (-len(raw) % 8)
    with open(out + ".tmp", "wb") as f:
        f.write(struct.pack("<Q", len(raw)) + raw)
        for name in sorted(tensors):
            f.write(tensors[name].tobytes())
    os.replace(out + ".tmp", out)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("mode", choices=("init", "train"))
    ap.add_argument("--template", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=0, help="init: the reference's seed")
    ap.add_argument("--data", default="/tmp/data/icons", help="init: the data folder (for the vocabulary)")
    ap.add_argument("--norm", choices=("none", "batch"), default="none", help="init: as torch_ref.py's")
    ap.add_argument("--pos-emb", action="store_true", help="init: as torch_ref.py's")
    args, rest = ap.parse_known_args()
    captured = {}
    make_optimizer, vocab_class = torch_ref.make_optimizer, torch_ref.Vocab

    class Vocab(vocab_class):
        def __init__(self, *a, **k):
            super().__init__(*a, **k)
            captured["vocab"] = self

    def capture(model, lr):
        captured["model"] = model
        return make_optimizer(model, lr)

    torch_ref.Vocab, torch_ref.make_optimizer = Vocab, capture
    if args.mode == "init":
        import torch
        ds = torch_ref.load_dataset(args.data, 64, os.path.join(os.path.dirname(torch_ref.__file__), ".cache", "torch_ref"))
        vocab = Vocab([c for i in ds["split"]["train"] for c in ds["captions"][i]], 5000)
        torch.manual_seed(args.seed)  # as torch_ref.train does before building the model
        model = torch_ref.TwoTower(vocab=5000, max_len=32, norm=args.norm, pos_emb=args.pos_emb)
    else:
        sys.argv = [torch_ref.__file__] + [a for a in rest if a != "--"]
        torch_ref.main()
        model, vocab = captured["model"], captured["vocab"]
    write_model(model, vocab, args.template, args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
