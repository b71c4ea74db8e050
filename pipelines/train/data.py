"""Training stamps from the simulator's shards (see docs/sim-shards.md) and the core-centred crop.

The crop rule is the inference rule (src/model/preprocess.ts implements the same and a test checks
both against a shared fixture): find the brightest pixel inside the central 9x9 box, then cut the
`crop` x `crop` window that puts it at index crop // 2.
"""
import json
import os

import numpy as np

# What each --target needs beyond the observed image and its noise.
TARGET_KINDS = {"galaxies": ("point",), "host": ("point",), "observed": ()}


class UnlabelledStampsError(ValueError):
    pass


def read_manifest(folder):
    with open(os.path.join(folder, "manifest.json")) as f:
        return json.load(f)


def require_target(manifest, folder, target):
    """Refuses a target that needs truth on stamps that have none (`vis-agn stamps`: labels "none")."""
    if TARGET_KINDS[target] and manifest.get("labels") == "none":
        raise UnlabelledStampsError(
            f"{folder}: observed stamps carry no truth (manifest labels 'none', no 'point' arrays), so "
            f"--target {target} cannot tell normal galaxies or hosts from point sources; train on them "
            f"with --target observed (what `vis-agn train --stamps` does)")


def read_crops(folder, crop, target, first_index=0):
    """A shard folder's stamps as --target trains on them, read one shard at a time so that no more
    than a shard's raw stamps is in memory beside the crops: (manifest, stamp indices counted from
    `first_index`, core-centred crops, sigma, host crops or None). For --target galaxies only the
    normal galaxies are kept; their point image is exactly zero, and nobody else's is."""
    manifest = read_manifest(folder)
    require_target(manifest, folder, target)
    stream = ShardStream(folder, manifest, ("image", "sigma") + TARGET_KINDS[target])
    parts = []
    for shard in range(stream.shards):
        arrays = stream.arrays(shard)
        raw, sigma = np.asarray(arrays["image"]), np.asarray(arrays["sigma"], dtype=np.float32)
        index = first_index + stream.firsts[shard] + np.arange(len(sigma))
        hosts = None
        if target == "galaxies":
            keep = ~np.any(np.asarray(arrays["point"]) != 0, axis=(1, 2))
            raw, sigma, index = raw[keep], sigma[keep], index[keep]
            images, _ = centre_on_core(raw, crop)
        elif target == "host":
            images, _, point_crops = centre_on_core(raw, crop, also=np.asarray(arrays["point"]))
            hosts = images - point_crops
        else:
            images, _ = centre_on_core(raw, crop)
        parts.append((index, images, sigma, hosts))
    joined = [np.concatenate([part[k] for part in parts]) for k in range(3)]
    return manifest, *joined, None if target != "host" else np.concatenate([part[3] for part in parts])


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


class ShardStream:
    """A shard folder's stamps read on demand by global index; a rank opens only the shards it owns
    (shard k belongs to rank k mod world), so no rank ever holds the whole set."""

    def __init__(self, folder, manifest, kinds, rank=0, world=1):
        by_first = {}
        for entry in manifest["files"]:
            if entry["kind"] in kinds:
                by_first.setdefault(entry["first"], {})[entry["kind"]] = entry
        self.folder, self.kinds, self.rank, self.world = folder, tuple(kinds), rank, world
        self.firsts = np.array(sorted(by_first), dtype=np.int64)
        self.entries = [by_first[f] for f in self.firsts]
        missing = [k for k in kinds if any(k not in e for e in self.entries)]
        if missing:
            raise ValueError(f"{folder}: some shards have no {', '.join(missing)} file")
        self.sizes = np.array([e[kinds[0]]["shape"][0] for e in self.entries], dtype=np.int64)
        self.count = int(self.sizes.sum())
        if self.count != manifest["count"]:
            raise ValueError(f"{folder}: the shards hold {self.count} stamps, the manifest says {manifest['count']}")
        self.opened = {}

    @property
    def shards(self):
        return len(self.entries)

    def shard_of(self, index):
        return np.searchsorted(self.firsts, index, side="right") - 1

    def owner_of(self, index):
        return self.shard_of(index) % self.world

    def owned_shards(self):
        return [k for k in range(self.shards) if k % self.world == self.rank]

    def arrays(self, shard):
        if shard not in self.opened:
            self.opened[shard] = {
                kind: np.memmap(os.path.join(self.folder, e["path"]), dtype=np.dtype(e["dtype"]).newbyteorder("<"),
                                mode="r", shape=tuple(e["shape"]))
                for kind, e in self.entries[shard].items()}
        return self.opened[shard]

    def read(self, index, kinds=None):
        """{kind: array} of the stamps at global `index`, in that order."""
        index = np.asarray(index, dtype=np.int64)
        shard = self.shard_of(index)
        out = {}
        for kind in kinds or self.kinds:
            rows = [self.arrays(s)[kind][i - self.firsts[s]] for s, i in zip(shard, index)]
            out[kind] = np.stack(rows).astype(np.float32) if rows else None
        return out
