"""Training stamps from the simulator's shards (see docs/sim-shards.md) and the core-centred crop.

The crop rule is the inference rule (src/model/preprocess.ts implements the same and a test checks
both against a shared fixture): find the brightest pixel inside the central 9x9 box, then cut the
`crop` x `crop` window that puts it at index crop // 2.
"""
import json
import os

import numpy as np


def load_shards(folder, kinds=("image", "sigma")):
    """The arrays of `kinds` (see docs/sim-shards.md), each concatenated over the shards."""
    with open(os.path.join(folder, "manifest.json")) as f:
        manifest = json.load(f)
    arrays = {kind: [] for kind in kinds}
    for entry in manifest["files"]:
        if entry["kind"] in arrays:
            path = os.path.join(folder, entry["path"])
            dtype = np.dtype(entry["dtype"]).newbyteorder("<")
            arrays[entry["kind"]].append(np.memmap(path, dtype=dtype, mode="r", shape=tuple(entry["shape"])))
    counts = {kind: sum(len(a) for a in parts) for kind, parts in arrays.items()}
    if len(set(counts.values())) != 1 or counts[kinds[0]] != manifest["count"]:
        raise ValueError(f"{folder}: the manifest does not list {', '.join(kinds)} for all {manifest['count']} stamps "
                         f"(found {counts}); shards written before the 'point' kind need rewriting for --target host")
    return manifest, *(np.concatenate([np.asarray(a) for a in arrays[kind]]) for kind in kinds)


def centre_on_core(stamps, crop, search=9, also=None):
    """Vectorised brightest-pixel recentring; returns crops (n, crop, crop) and the chosen pixel.

    With `also` (same shape as `stamps`), returns its crops at the same places as a third value.
    """
    n, h, w = stamps.shape
    cy, cx = h // 2, w // 2
    half = search // 2
    box = stamps[:, cy - half : cy + half + 1, cx - half : cx + half + 1].reshape(n, -1)
    flat = np.nan_to_num(box, nan=-np.inf).argmax(axis=1)
    by = cy - half + flat // search
    bx = cx - half + flat % search
    top, left = by - crop // 2, bx - crop // 2
    if (top < 0).any() or (left < 0).any() or (top + crop > h).any() or (left + crop > w).any():
        raise ValueError(f"stamps of {h}x{w} are too small for a {crop} crop around a {search}x{search} search box")
    rows = top[:, None] + np.arange(crop)[None, :]
    cols = left[:, None] + np.arange(crop)[None, :]
    def cut(images):
        return images[np.arange(n)[:, None, None], rows[:, :, None], cols[:, None, :]].astype(np.float32)
    centres = np.stack([bx, by], axis=1)
    return (cut(stamps), centres) if also is None else (cut(stamps), centres, cut(also))
