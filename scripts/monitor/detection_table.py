#!/usr/bin/env python3
"""The collapse monitor's detection table: runs `retrieve train` on a real captioned set and on
the broken sets built from it, and prints when (and as what) each run was named.

The broken sets are the ones users hit: every picture the same (copies of one picture under the
real captions), every caption the same, captions shuffled against their pictures, and an absurd
learning rate. Each runs short (3 epochs) and long (20 epochs) with `--on-collapse stop`; the
healthy set runs with the defaults, where any alarm at all is a false alarm.

Usage:
    python3 scripts/monitor/detection_table.py --data /tmp/data/icons [--binary .build/release/retrieve]
        [--out /tmp/monitor-cases] [--batch 64] [--epochs 3 20] [--seeds 0] [--cases healthy shuffled ...]

DATA holds captions.tsv (path<TAB>caption, paths relative to DATA) and, optionally, split.tsv.
Output: one markdown row per run (case, epochs, steps, exit, alarms as mode@step, where it
stopped) and the command behind it; the runs' files stay under --out.
"""

import argparse
import json
import os
import random
import shutil
import subprocess
import sys

CASES = ["healthy", "one-picture", "one-caption", "shuffled", "lr-0.9"]


def read_pairs(data):
    pairs = []
    with open(os.path.join(data, "captions.tsv"), encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if "\t" in line:
                path, caption = line.split("\t", 1)
                pairs.append((os.path.join(data, path), caption))
    return pairs


def write_set(folder, pairs, split_from=None):
    """Writes captions.tsv with absolute paths (and the source split under the same paths)."""
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "captions.tsv"), "w", encoding="utf-8") as f:
        for path, caption in pairs:
            f.write(f"{path}\t{caption}\n")
    if split_from and os.path.exists(os.path.join(split_from, "split.tsv")):
        with open(os.path.join(split_from, "split.tsv"), encoding="utf-8") as src, \
                open(os.path.join(folder, "split.tsv"), "w", encoding="utf-8") as dst:
            for line in src:
                path, part = line.rstrip("\n").split("\t")
                dst.write(f"{os.path.join(split_from, path)}\t{part}\n")
    return os.path.join(folder, "captions.tsv")


def build(case, data, out, seed):
    pairs = read_pairs(data)
    folder = os.path.join(out, case)
    if case in ("healthy", "lr-0.9"):
        return write_set(folder, pairs, split_from=data), []
    if case == "one-caption":
        return write_set(folder, [(p, "an icon") for p, _ in pairs], split_from=data), ["--force"]
    if case == "shuffled":
        images = sorted({p for p, _ in pairs})
        order = images[:]
        random.Random(seed + 7).shuffle(order)
        moved = dict(zip(images, order))
        return write_set(folder, [(moved[p], c) for p, c in pairs], split_from=data), []
    if case == "one-picture":
        os.makedirs(os.path.join(folder, "images"), exist_ok=True)
        copies = {}
        for p, c in pairs:
            if p not in copies:
                copies[p] = os.path.join(folder, "images", f"{len(copies)}.png")
                shutil.copyfile(pairs[0][0], copies[p])
        return write_set(folder, [(copies[p], c) for p, c in pairs]), ["--force"]
    raise ValueError(case)


def run(binary, case, captions, extra, epochs, batch, seed, out):
    model = os.path.join(out, case, f"m-e{epochs}-s{seed}.safetensors")
    args = [binary, "train", "--data", captions, "--out", model, "--epochs", str(epochs),
            "--batch", str(batch), "--seed", str(seed), "--log-every", "1", "--on-collapse", "stop"] + extra
    if case == "lr-0.9":
        args += ["--lr", "0.9"]
    done = subprocess.run(args, capture_output=True, text=True)
    metrics = model[: -len(".safetensors")] + ".metrics.jsonl"
    alarms, steps, plan = [], 0, {}
    if os.path.exists(metrics):
        for line in open(metrics, encoding="utf-8"):
            record = json.loads(line)
            if record.get("kind") == "alarm":
                a = record["alarm"]
                alarms.append(f"{a['mode']}{'' if a['health'] == 'collapsed' else '?'}@{a['declaredAt']}")
            elif record.get("kind") == "step":
                steps = record["step"]
            elif record.get("kind") == "run":
                plan = record
    refused = [l for l in done.stderr.splitlines() if l.startswith("Error:")]
    return {"case": case, "epochs": epochs, "seed": seed, "exit": done.returncode, "alarms": alarms,
            "stopped": steps, "total": plan.get("total_steps", 0), "refused": refused,
            "command": " ".join(args[1:])}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", required=True)
    ap.add_argument("--binary", default=".build/release/retrieve")
    ap.add_argument("--out", default="/tmp/monitor-cases")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--epochs", type=int, nargs="+", default=[3, 20])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    ap.add_argument("--cases", nargs="+", default=CASES, choices=CASES)
    args = ap.parse_args()
    out = os.path.join(args.out, os.path.basename(os.path.normpath(args.data)))
    print("| set | case | epochs | seed | steps run / planned | exit | alarms (mode@step, ? = warning) |")
    print("|---|---|---|---|---|---|---|")
    for case in args.cases:
        for seed in args.seeds:
            captions, extra = build(case, args.data, out, seed)
            if "--force" in extra:
                r = run(args.binary, case, captions, [], args.epochs[0], args.batch, seed, out)
                print(f"| {os.path.basename(out)} | {case}, no --force | {args.epochs[0]} | {seed} | 0 / — | {r['exit']} | "
                      f"{'; '.join(r['refused'])[:160]} |")
            for epochs in args.epochs:
                r = run(args.binary, case, captions, extra, epochs, args.batch, seed, out)
                print(f"| {os.path.basename(out)} | {case} | {epochs} | {seed} | {r['stopped']} / {r['total']} | {r['exit']} | "
                      f"{', '.join(r['alarms']) or 'none'} |", flush=True)
                print(f"<!-- {r['command']} -->", file=sys.stderr)


if __name__ == "__main__":
    main()
