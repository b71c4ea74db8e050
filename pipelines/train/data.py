"""Training stamps from the simulator's shards (see docs/sim-shards.md) and the core-centred crop.

The crop rule is the inference rule (src/model/preprocess.ts implements the same and a test checks
both against a shared fixture): find the brightest pixel inside the central 9x9 box, then cut the
`crop` x `crop` window that puts it at index crop // 2.
"""
import json
import os

import numpy as np


def load_shards(folder):
    with open(os.path.join(folder, "manifest.json")) as f:
        manifest = json.load(f)
    images, sigmas = [], []
    for entry in manifest["files"]:
        path = os.path.join(folder, entry["path"])
        array = np.memmap(path, dtype=np.dtype(entry["dtype"]).newbyteorder("<"), mode="r", shape=tuple(entry["shape"]))
        if entry["kind"] == "image":
            images.append(array)
        elif entry["kind"] == "sigma":
            sigmas.append(array)
    if not images or len(images) != len(sigmas):
        raise ValueError(f"{folder}: manifest needs matching 'image' and 'sigma' files")
    return manifest, np.concatenate([np.asarray(a) for a in images]), np.concatenate([np.asarray(a) for a in sigmas])


def centre_on_core(stamps, crop, search=9):
    """Vectorised brightest-pixel recentring; returns crops (n, crop, crop) and the chosen pixel."""
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
    crops = stamps[np.arange(n)[:, None, None], rows[:, :, None], cols[:, None, :]]
    return crops.astype(np.float32), np.stack([bx, by], axis=1)
