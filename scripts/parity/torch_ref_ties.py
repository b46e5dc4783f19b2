#!/usr/bin/env python3
"""Runs ../shared/bench/torch_ref.py unchanged (same arguments) and, beside its own test figures
(which count a tie in the query's favour), prints them with ties counted the way `retrieve eval`
counts them: the expected recall when tied candidates are put in random order. Test captions
that tokenize the same (unknown words become <unk>: 23 of the 114 icons test captions) tie
exactly, so the reference's rule credits image→text with every member of such a group."""
import json
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "shared", "bench"))
import torch_ref  # noqa: E402

original = torch_ref.evaluate


def expected_recall(M):
    """M: queries × candidates, ground truth on the diagonal."""
    gt = M.diag().unsqueeze(1)
    ahead = (M > gt).sum(1).double()
    tied = (M == gt).sum(1).double() - 1
    out = {}
    for k in (1, 5, 10):
        out[f"R@{k}"] = round(float(((k - ahead) / (tied + 1)).clamp(0, 1).mean() * 100), 2)
    out["medr"] = float((ahead + 1 + tied / 2).median())
    return out


@torch.inference_mode()
def evaluate(model, ds, vocab, idxs, max_len, layout="nchw", batch=256):
    result = original(model, ds, vocab, idxs, max_len, layout, batch)
    if idxs is ds["split"]["test"]:
        model.eval()
        caps = [ds["captions"][i][0] for i in idxs]
        I = torch.cat([model.image(torch_ref.to_tensor(ds["images"][idxs[s:s + batch]], layout))
                       for s in range(0, len(idxs), batch)])
        T = torch.cat([model.text(*vocab.encode(caps[s:s + batch], max_len)) for s in range(0, len(idxs), batch)])
        model.train()
        S = T @ I.t()
        expected = {"t2i": expected_recall(S), "i2t": expected_recall(S.t())}
        print("test, ties in random order (as retrieve eval):", json.dumps(expected), flush=True)
        result["expected_ties"] = expected
    return result


torch_ref.evaluate = evaluate
if __name__ == "__main__":
    torch_ref.main()
