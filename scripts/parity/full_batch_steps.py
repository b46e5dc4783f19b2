#!/usr/bin/env python3
"""The reference trained full-batch (every training picture, its first caption, in one step)
from its seed-S initial weights, printing the loss and each tower's gradient norm per step.
Full batches make the run independent of shuffling, so `retrieve train --init` from the same
weights on the same pictures must print the same numbers (to float rounding and the small
resampling differences of the two decoders):

  python full_batch_steps.py --seed 0 --template OURS.safetensors --init-out init.safetensors
  awk -F'\\t' '!seen[$1]++' /tmp/data/icons/captions.tsv > /tmp/first/captions.tsv   # + split.tsv, images/
  retrieve train --init init.safetensors --data /tmp/first/captions.tsv --out /tmp/fb.safetensors \\
      --batch 1024 --epochs 20 --no-augment --lr 1e-3 --weight-decay 0.01 --warmup-steps 0 \\
      --final-lr 1 --clip 0 --log-every 1        # then read /tmp/fb.metrics.jsonl

The optimizer is grouped as retrieve's (no decay on biases and the temperature); pictures are
resized bilinearly, as retrieve does (the reference itself uses bicubic)."""
import argparse
import math
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_to_retrieve  # noqa: E402
from torch_to_retrieve import torch_ref  # noqa: E402


def load_bilinear(full, size):
    from PIL import Image
    with Image.open(full) as im:
        im.load()
        if im.mode in ("RGBA", "LA") or (im.mode == "P" and "transparency" in im.info):
            im = Image.alpha_composite(Image.new("RGBA", im.size, (255, 255, 255, 255)), im.convert("RGBA"))
        return np.asarray(im.convert("RGB").resize((size, size), Image.Resampling.BILINEAR), dtype=np.uint8)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default="/tmp/data/icons")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--weight-decay", type=float, default=0.01)
    ap.add_argument("--template", help="a retrieve model trained on the same captions (for --init-out)")
    ap.add_argument("--init-out", help="also write the initial weights as a retrieve model")
    args = ap.parse_args()
    torch.set_num_threads(2)
    torch_ref.load_image = load_bilinear
    ds = torch_ref.load_dataset(args.data, 64, "/tmp/torch-ref-bilinear-cache")
    train = ds["split"]["train"]
    vocab = torch_ref.Vocab([c for i in train for c in ds["captions"][i]], 5000)
    torch.manual_seed(args.seed)
    model = torch_ref.TwoTower(vocab=5000, max_len=32)
    if args.init_out:
        torch_to_retrieve.write_model(model, vocab, args.template, args.init_out)
    plain = [n.endswith("bias") or n == "logit_scale" for n, _ in model.named_parameters()]
    params = [p for _, p in model.named_parameters()]
    opt = torch.optim.AdamW([{"params": [p for p, q in zip(params, plain) if not q], "weight_decay": args.weight_decay},
                             {"params": [p for p, q in zip(params, plain) if q], "weight_decay": 0.0}], lr=args.lr)
    images = torch_ref.to_tensor(ds["images"][train])
    tokens, mask = vocab.encode([ds["captions"][i][0] for i in train], 32)
    norm = lambda ps: math.sqrt(sum(float((p.grad.detach() ** 2).sum()) for p in ps))  # noqa: E731
    for step in range(1, args.steps + 1):
        opt.zero_grad()
        loss = model.loss(images, tokens, mask)
        loss.backward()
        grads = norm(model.image.parameters()), norm(model.text.parameters())
        opt.step()
        with torch.no_grad():
            model.logit_scale.clamp_(0.0, math.log(100.0))
        print(f"step {step} loss {loss.item():.6f} grad image {grads[0]:.6f} text {grads[1]:.6f}", flush=True)


if __name__ == "__main__":
    main()
