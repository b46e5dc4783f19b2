#!/usr/bin/env python3
"""Experiment runner for the training defaults (issue 12): trains and evaluates, one job at a
time, over sets and seeds, and keeps one JSON result per run under /tmp/quality/TAG/.

    run.py ours  TAG --sets icons,tango --seeds 0,1,2 [-- extra `retrieve train` flags]
    run.py torch TAG --sets icons,tango --seeds 0,1,2 [--variant default|batchpos]
    run.py table TAG [TAG ...] --sets icons,tango        # mean ± spread per set, per tag

`ours` runs `retrieve train --data SET/captions.tsv --epochs 20 --batch 128 --seed S` plus the
extra flags, then `retrieve eval` of the *last* model on the test split with the first caption
of each picture (the reference's protocol); the best-by-validation model is evaluated too.
`torch` runs scripts/parity/torch_ref_ties.py (../shared/bench/torch_ref.py unchanged) with the
same split, epochs, batch and seed, and keeps its figures under our tie rule (ties in random
order). Needs the peers' environment: run it with /root/.cache/retrieve-peers/bin/python.
A run whose result file exists is skipped, so an interrupted sweep resumes.

Env: R (retrieve binary, default .build/release/retrieve), DATA (default /tmp/data),
OUT (default /tmp/quality), EPOCHS (20), BATCH (128).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
DATA = os.environ.get("DATA", "/tmp/data")
OUT = os.environ.get("OUT", "/tmp/quality")
EPOCHS = int(os.environ.get("EPOCHS", "20"))
BATCH = int(os.environ.get("BATCH", "128"))
KEYS = ("R@1", "R@5", "R@10")


def result_path(tag, name, seed):
    return os.path.join(OUT, tag, f"{name}-s{seed}.json")


def run_ours(tag, sets, seeds, flags):
    binary = os.environ.get("R", os.path.join(ROOT, ".build/release/retrieve"))
    os.makedirs(os.path.join(OUT, tag), exist_ok=True)
    for name in sets:
        for seed in seeds:
            out = result_path(tag, name, seed)
            if os.path.exists(out):
                continue
            data = os.path.join(DATA, name, "captions.tsv")
            model = os.path.join(OUT, tag, f"{name}-s{seed}.safetensors")
            argv = [binary, "train", "--data", data, "--out", model, "--epochs", str(EPOCHS), "--batch", str(BATCH),
                    "--seed", str(seed), *flags, "--json"]
            t0 = time.time()
            p = subprocess.run(argv, capture_output=True, text=True)
            wall = time.time() - t0
            if p.returncode not in (0, 3):
                print(f"{tag} {name} seed {seed}: train failed ({p.returncode}): {p.stderr[-2000:]}", flush=True)
                continue
            summary = json.loads(p.stdout)
            tests = {}
            for which, path in (("last", model.replace(".safetensors", ".last.safetensors")), ("best", model)):
                e = subprocess.run([binary, "eval", "--model", path, "--data", data, "--on", "test", "--captions", "first",
                                    "--json"], capture_output=True, text=True, check=True)
                tests[which] = json.loads(e.stdout)
            res = {"impl": "ours", "tag": tag, "set": name, "seed": seed, "argv": argv, "flags": flags,
                   "train_s": summary.get("seconds", wall), "wall_s": wall, "outcome": summary.get("outcome"),
                   "verdict": summary.get("verdict"), "alarms": summary.get("alarms"),
                   "pairs_per_s": steps_pairs_per_s(summary.get("metrics")),
                   "test": tests["last"], "test_best": tests["best"]}
            with open(out, "w") as f:
                json.dump(res, f, indent=1)
            for suffix in (".state.safetensors",):  # keep the models, drop the bulky state
                try:
                    os.remove(model.replace(".safetensors", suffix))
                except OSError:
                    pass
            print(f"{tag} {name} seed {seed}: {fmt(res['test'])}  ({res['train_s']:.0f}s, {res['outcome']})", flush=True)


def steps_pairs_per_s(metrics):
    """Median of the step records' pairs/s (training steps only, no evaluation)."""
    if not metrics or not os.path.exists(metrics):
        return None
    rates = []
    with open(metrics) as f:
        for line in f:
            r = json.loads(line)
            if r.get("kind") == "step" and r.get("pairs_per_s"):
                rates.append(r["pairs_per_s"])
    return statistics.median(rates) if rates else None


def run_torch(tag, sets, seeds, variant):
    os.makedirs(os.path.join(OUT, tag), exist_ok=True)
    script = os.path.join(ROOT, "scripts", "parity", "torch_ref_ties.py")
    for name in sets:
        for seed in seeds:
            out = result_path(tag, name, seed)
            if os.path.exists(out):
                continue
            raw = os.path.join(OUT, tag, f"{name}-s{seed}.torch.json")
            argv = [sys.executable, script, "--data", os.path.join(DATA, name), "--epochs", str(EPOCHS),
                    "--batch", str(BATCH), "--seed", str(seed), "--out", raw]
            if variant == "batchpos":
                argv += ["--norm", "batch", "--pos-emb"]
            t0 = time.time()
            p = subprocess.run(argv, capture_output=True, text=True)
            if p.returncode != 0:
                print(f"{tag} {name} seed {seed}: torch failed: {p.stderr[-2000:]}", flush=True)
                continue
            r = json.load(open(raw))
            res = {"impl": "torch", "variant": variant, "tag": tag, "set": name, "seed": seed, "argv": argv,
                   "train_s": r["train_s"], "wall_s": time.time() - t0,
                   "pairs_per_s": statistics.median(h["pairs_per_s"] for h in r["history"]),
                   "test": r["test"]["expected_ties"], "test_query_favour": {k: r["test"][k] for k in ("t2i", "i2t")}}
            with open(out, "w") as f:
                json.dump(res, f, indent=1)
            print(f"{tag} {name} seed {seed}: {fmt(res['test'])}  ({res['train_s']:.0f}s)", flush=True)


def fmt(t):
    return " | ".join("/".join(f"{t[d][k]:.1f}" for k in KEYS) for d in ("t2i", "i2t"))


def load(tag, name, field="test"):
    d = os.path.join(OUT, tag)
    rows = []
    if not os.path.isdir(d):
        return rows
    for f in sorted(os.listdir(d)):
        if f.startswith(name + "-s") and f.endswith(".json") and not f.endswith(".torch.json") \
                and f[len(name) + 2:-5].isdigit():
            r = json.load(open(os.path.join(d, f)))
            if field in r:
                rows.append(r)
    return rows


def mean_spread(values):
    m = statistics.mean(values)
    s = statistics.stdev(values) if len(values) > 1 else 0.0
    return m, s


def table(tags, sets, field, markdown):
    for name in sets:
        print(f"\n{name}" + (f" ({field})" if field != "test" else ""))
        header = ["run", "seeds", "t2i R@1", "t2i R@5", "t2i R@10", "i2t R@1", "i2t R@5", "i2t R@10", "train s"]
        if markdown:
            print("| " + " | ".join(header) + " |")
            print("|" + "---|" * len(header))
        for tag in tags:
            rows = load(tag, name, field)
            if not rows:
                continue
            cells = [tag, ",".join(str(r["seed"]) for r in rows)]
            for d in ("t2i", "i2t"):
                for k in KEYS:
                    m, s = mean_spread([r[field][d][k] for r in rows])
                    cells.append(f"{m:.1f} ± {s:.1f}")
            m, s = mean_spread([r["train_s"] for r in rows])
            cells.append(f"{m:.0f}")
            print(("| " + " | ".join(cells) + " |") if markdown else "  ".join(f"{c:>13}" for c in cells))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("mode", choices=("ours", "torch", "table"))
    ap.add_argument("tags", nargs="+")
    ap.add_argument("--sets", default="icons,tango,gnome,mate,faenza")
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--variant", choices=("default", "batchpos"), default="default")
    ap.add_argument("--field", default="test", help="table: test (last model) or test_best")
    ap.add_argument("--markdown", action="store_true")
    argv = sys.argv[1:]
    extra = []
    if "--" in argv:
        i = argv.index("--")
        argv, extra = argv[:i], argv[i + 1:]
    a = ap.parse_args(argv)
    sets = a.sets.split(",")
    seeds = [int(s) for s in a.seeds.split(",")]
    if a.mode == "ours":
        run_ours(a.tags[0], sets, seeds, extra)
    elif a.mode == "torch":
        run_torch(a.tags[0], sets, seeds, a.variant)
    else:
        table(a.tags, sets, a.field, a.markdown)


if __name__ == "__main__":
    main()
