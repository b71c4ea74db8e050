"""An independent evaluation set: VIS cutouts made without any of src/sim's code.

The project's own simulator (src/sim) trains and calibrates the core generator, so a benchmark on its
cutouts shares every assumption the model learned. This script renders a second set another way, in
the spirit of the kept-back set of issue 14: five kinds of normal galaxies (disks, ellipticals,
bulge + disk, clumpy disks, compact galaxies), nuclear star clusters holding 3-8% of the light of
some hosts, AGN at fixed f_PS, stars, neighbours, the real Q1 VIS PSF stamps, correlated noise at the
Q1 level. What differs from src/sim on purpose: profiles are point-sampled on a 5x finer grid (50x
within the central pixels) and convolved there with the Fourier-interpolated ePSF, point sources are
placed by the same interpolation, the noise is correlated by a Gaussian kernel rather than a
separable three-tap one, and the host population follows its own simple recipe below.

    /usr/bin/python3 pipelines/crosscheck/make_set.py --out DIR --psf-json stamps.json [--seed 1]

Writes DIR/cutouts/crosscheck_<id>.fits (empty primary with OBJECTID, VIS_FLUX with MAGZERO 24.6,
VIS_PSF, VIS_RMS: the Q1 MER layout, target at pixel (50, 50) 0-based for 100x100) and
DIR/truth.csv (object_id, class, f_ps, mag_total, kind, re_px, nsc_fraction, dx and dy: the target's
offset from the centre pixel, psf).
"""
import argparse
import csv
import json
import math
import os
import sys

import numpy as np
from astropy.io import fits
from scipy.special import gamma, gammaincinv

MAGZERO = 24.6
OVERSAMPLE = 5
CORE_OVERSAMPLE = 10  # further, within the central 3x3 pixels of each profile: cusps
KINDS = ["disk", "elliptical", "bulge_disk", "clumpy", "compact"]
# Q1 facts (docs/simulator.md, measured on the three real cutouts): RMS-map level, blank-sky sigma
# as a fraction of it, lag-1 noise correlation, shot-noise gain.
RMS_LEVEL = (0.0034, 0.0042)
SIGMA_OVER_RMS = 0.63
NOISE_LAG1 = 0.21
GAIN = 3000.0


def sersic_b(n):
    return gammaincinv(2 * n, 0.5)


def sersic_intensity(x, y, flux, re, n, q, pa):
    """Point values of an elliptical Sersic profile of total flux `flux` (Re along the major axis)."""
    c, s = math.cos(pa), math.sin(pa)
    xr = x * c + y * s
    yr = -x * s + y * c
    r = np.sqrt(xr * xr + (yr / q) ** 2)
    b = sersic_b(n)
    ie = flux / (2 * math.pi * q * re * re * n * math.exp(b) * gamma(2 * n) / b ** (2 * n))
    return ie * np.exp(-b * ((r / re) ** (1.0 / n) - 1.0))


class Canvas:
    """A cutout's sky at OVERSAMPLE x the pixel scale; values are flux per sub-pixel."""

    def __init__(self, side):
        self.side = side
        self.fine = np.zeros((side * OVERSAMPLE, side * OVERSAMPLE))
        offsets = (np.arange(side * OVERSAMPLE) + 0.5) / OVERSAMPLE - 0.5  # pixel coordinates of sub-pixel centres
        self.gx, self.gy = np.meshgrid(offsets, offsets)

    def add_sersic(self, cx, cy, flux, re, n, q, pa):
        area = 1.0 / OVERSAMPLE ** 2
        light = sersic_intensity(self.gx - cx, self.gy - cy, flux, re, n, q, pa) * area
        # The central 3x3 pixels again on a finer grid, so a cusp's light is not lost between samples.
        ix, iy = int(round(cx)), int(round(cy))
        lo_x, lo_y = (ix - 1) * OVERSAMPLE, (iy - 1) * OVERSAMPLE
        if lo_x < 0 or lo_y < 0 or lo_x + 3 * OVERSAMPLE > self.fine.shape[1] or lo_y + 3 * OVERSAMPLE > self.fine.shape[0]:
            self.fine += light
            return
        k = CORE_OVERSAMPLE
        sub = (np.arange(3 * OVERSAMPLE * k) + 0.5) / (OVERSAMPLE * k) - 0.5 + (ix - 1)
        suby = (np.arange(3 * OVERSAMPLE * k) + 0.5) / (OVERSAMPLE * k) - 0.5 + (iy - 1)
        fx, fy = np.meshgrid(sub, suby)
        fine = sersic_intensity(fx - cx, fy - cy, flux, re, n, q, pa) * area / k ** 2
        light[lo_y : lo_y + 3 * OVERSAMPLE, lo_x : lo_x + 3 * OVERSAMPLE] = fine.reshape(3 * OVERSAMPLE, k, 3 * OVERSAMPLE, k).sum(axis=(1, 3))
        self.fine += light

    def add_gaussian(self, cx, cy, flux, sigma):
        area = 1.0 / OVERSAMPLE ** 2
        r2 = (self.gx - cx) ** 2 + (self.gy - cy) ** 2
        self.fine += flux * np.exp(-0.5 * r2 / sigma ** 2) / (2 * math.pi * sigma ** 2) * area

    def add_point(self, cx, cy, flux):
        """A point source on the nearest sub-pixel centre (targets are placed on them exactly)."""
        i = int(round((cx + 0.5) * OVERSAMPLE - 0.5))
        j = int(round((cy + 0.5) * OVERSAMPLE - 0.5))
        if 0 <= i < self.fine.shape[1] and 0 <= j < self.fine.shape[0]:
            self.fine[j, i] += flux

    def observe(self, epsf_fine):
        """Convolve with the ePSF sampled on the fine grid and read the pixel centres."""
        h, w = self.fine.shape
        kh, kw = epsf_fine.shape
        shape = (h + kh - 1, w + kw - 1)
        conv = np.fft.irfft2(np.fft.rfft2(self.fine, shape) * np.fft.rfft2(epsf_fine, shape), shape)
        conv = conv[kh // 2 : kh // 2 + h, kw // 2 : kw // 2 + w]
        centre = OVERSAMPLE // 2
        return conv[centre::OVERSAMPLE, centre::OVERSAMPLE]


def fine_epsf(stamp):
    """The ePSF (a pixel-sampled stamp, odd side) at OVERSAMPLE x the resolution, by Fourier interpolation.

    The ePSF already holds the pixel's response, so the fine-grid point samples it gives are what a
    pixel centred there receives from a point source; at integer offsets it returns the stamp itself.
    """
    n = stamp.shape[0]
    m = n * OVERSAMPLE
    spectrum = np.fft.fftshift(np.fft.fft2(np.fft.ifftshift(stamp)))
    padded = np.zeros((m, m), dtype=complex)
    start = (m - n) // 2
    padded[start : start + n, start : start + n] = spectrum
    fine = np.real(np.fft.fftshift(np.fft.ifft2(np.fft.ifftshift(padded)))) * OVERSAMPLE ** 2
    return fine


def lanczos3_epsf(stamp):
    """The ePSF on the fine grid by Lanczos-3 interpolation (src/sim's kernel): to tell how much of a
    difference is the interpolant alone."""
    n = stamp.shape[0]
    m = n * OVERSAMPLE
    fine_positions = (np.arange(m) - m // 2) / OVERSAMPLE  # offsets from the stamp centre, in pixels
    taps = fine_positions[:, None] - (np.arange(n) - n // 2)[None, :]
    weights = np.where(np.abs(taps) < 3, np.sinc(taps) * np.sinc(taps / 3), 0.0)
    return weights @ stamp @ weights.T


def size_law_re_px(rng, mag):
    """HST/COSMOS I-band size-magnitude relation, 0.25 dex scatter, in 0.1" pixels."""
    return 10 ** (-0.42 - 0.115 * (mag - 22.0) + rng.normal(0, 0.25)) * 10.0


def disk_q(rng):
    inclination = math.acos(rng.uniform(0, 1))
    return math.sqrt(math.cos(inclination) ** 2 + (0.15 * math.sin(inclination)) ** 2)


def add_host(canvas, rng, kind, cx, cy, flux, mag):
    """Renders a normal galaxy of `kind`; returns its main component's Re (px)."""
    pa = rng.uniform(0, math.pi)
    if kind == "disk":
        re = max(size_law_re_px(rng, mag), 0.8)
        canvas.add_sersic(cx, cy, flux, re, rng.uniform(0.8, 1.2), disk_q(rng), pa)
    elif kind == "elliptical":
        re = max(0.7 * size_law_re_px(rng, mag), 0.8)
        canvas.add_sersic(cx, cy, flux, re, rng.uniform(3.0, 5.0), rng.uniform(0.6, 1.0), pa)
    elif kind == "bulge_disk":
        re = max(size_law_re_px(rng, mag), 1.5)
        bt = rng.uniform(0.1, 0.5)
        canvas.add_sersic(cx, cy, (1 - bt) * flux, re, 1.0, disk_q(rng), pa)
        canvas.add_sersic(cx, cy, bt * flux, max(rng.uniform(0.2, 0.5) * re, 1.0), rng.uniform(2.0, 4.0), rng.uniform(0.7, 1.0), pa)
    elif kind == "clumpy":
        re = max(size_law_re_px(rng, mag), 1.5)
        clump_share = rng.uniform(0.15, 0.4)
        canvas.add_sersic(cx, cy, (1 - clump_share) * flux, re, rng.uniform(0.7, 1.2), disk_q(rng), pa)
        clumps = rng.integers(3, 8)
        weights = rng.uniform(0.5, 1.5, clumps)
        for w in weights / weights.sum():
            r, phi = rng.uniform(0.3, 1.5) * re, rng.uniform(0, 2 * math.pi)
            canvas.add_gaussian(cx + r * math.cos(phi), cy + r * math.sin(phi), clump_share * flux * w, rng.uniform(1.0, 2.5))
    elif kind == "compact":
        re = rng.uniform(1.0, 2.5)
        canvas.add_sersic(cx, cy, flux, re, rng.uniform(1.0, 4.0), rng.uniform(0.6, 1.0), pa)
    else:
        raise ValueError(kind)
    return re


def gaussian_noise_kernel(lag1):
    """Seven taps of a sampled Gaussian whose white-noise output has lag-1 correlation `lag1` (unit variance)."""
    taps = np.arange(-3, 4)

    def kernel(width):
        k = np.exp(-0.5 * (taps / width) ** 2)
        return k / math.sqrt((k ** 2).sum())

    def correlation(width):
        k = kernel(width)
        return float((k[1:] * k[:-1]).sum())

    lo, hi = 0.05, 3.0  # the correlation rises monotonically with the width
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if correlation(mid) < lag1 else (lo, mid)
    return kernel(0.5 * (lo + hi))


def correlated_noise(rng, side):
    """Unit-variance noise with the mosaic's lag-1 correlation: white noise through a Gaussian kernel."""
    kernel = gaussian_noise_kernel(NOISE_LAG1)
    white = rng.normal(size=(side + 6, side + 6))
    rows = sum(kernel[k] * white[:, k : k + side] for k in range(7))
    return sum(kernel[k] * rows[k : k + side, :] for k in range(7))


def objects(args):
    fps_values = [float(f) for f in args.fps.split(",")]
    listed = [("galaxy", 0.0)] * args.galaxies
    for f in fps_values:
        listed += [("agn" if f < 0.5 else "qso", f)] * args.agn_per_fps
    listed += [("star", 1.0)] * args.stars
    # Shuffled, so that the first N cutouts (the peers' subset in bench:detect) are a fair sample.
    order = np.random.default_rng([args.seed, 0]).permutation(len(listed))
    return [listed[k] for k in order]


def render(args, object_id, cls, fps, stamps, fine_psfs):
    rng = np.random.default_rng([args.seed, object_id])
    side = args.size
    canvas = Canvas(side)
    centre = side // 2
    # Sub-pixel offset on the fine grid, so host, nucleus and point source share one exact position.
    dx, dy = (rng.integers(-2, 3) / OVERSAMPLE for _ in range(2))
    cx, cy = centre + dx, centre + dy
    lo, hi = (float(m) for m in args.mag.split(","))
    mag = rng.uniform(lo, hi)
    total = 10 ** (-0.4 * (mag - MAGZERO))
    kind, re, nsc = "", float("nan"), 0.0
    if cls == "star":
        canvas.add_point(cx, cy, total)
    else:
        kind = KINDS[rng.integers(len(KINDS))]
        host = (1 - fps) * total
        if cls == "galaxy" and kind != "clumpy" and kind != "compact" and rng.uniform() < args.nsc_share:
            nsc = rng.uniform(0.03, 0.08)
        re = add_host(canvas, rng, kind, cx, cy, host * (1 - nsc), mag)
        canvas.add_point(cx, cy, host * nsc + fps * total)
    for _ in range(rng.poisson(args.neighbours)):
        while True:
            nx, ny = rng.uniform(0, side), rng.uniform(0, side)
            if math.hypot(nx - cx, ny - cy) >= 8:
                break
        nmag = rng.uniform(20, 25.5)
        nflux = 10 ** (-0.4 * (nmag - MAGZERO))
        if rng.uniform() < 0.15:
            canvas.add_point(nx, ny, nflux)
        else:
            add_host(canvas, rng, ["disk", "elliptical", "bulge_disk"][rng.integers(3)], nx, ny, nflux, nmag)
    which = rng.integers(len(stamps))
    light = canvas.observe(fine_psfs[which])
    level = rng.uniform(*RMS_LEVEL)
    rms = np.sqrt(level ** 2 + np.clip(light, 0, None) / GAIN)
    sigma = SIGMA_OVER_RMS * rms
    image = light + sigma * correlated_noise(rng, side)
    truth = {"object_id": object_id, "class": cls, "f_ps": fps, "mag_total": round(mag, 5), "kind": kind,
             "re_px": round(re, 4), "nsc_fraction": round(nsc, 5), "dx": dx, "dy": dy, "psf": stamps[which]["file"]}
    return image.astype(np.float32), rms.astype(np.float32), stamps[which], truth


def write_cutout(path, object_id, image, rms, stamp):
    primary = fits.PrimaryHDU()
    primary.header["OBJECTID"] = object_id
    primary.header["ORIGIN"] = "vis-agn pipelines/crosscheck/make_set.py"
    flux = fits.ImageHDU(image, name="VIS_FLUX")
    flux.header["MAGZERO"] = MAGZERO
    flux.header["BUNIT"] = "image units (MAGZERO 24.6)"
    psf = fits.ImageHDU(np.asarray(stamp["values"], dtype=np.float32).reshape(stamp["size"], stamp["size"]), name="VIS_PSF")
    tmp = path + ".tmp"
    fits.HDUList([primary, flux, psf, fits.ImageHDU(rms, name="VIS_RMS")]).writeto(tmp, overwrite=True)
    os.replace(tmp, path)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", required=True)
    p.add_argument("--psf-json", required=True, help='[{"file", "size", "values"}], the PSF stamps (row-major)')
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--galaxies", type=int, default=3000)
    p.add_argument("--agn-per-fps", type=int, default=300)
    p.add_argument("--stars", type=int, default=300)
    p.add_argument("--fps", default="0.05,0.1,0.2,0.3,0.5,0.8")
    p.add_argument("--mag", default="19,23", help="total I_E range of the targets, uniform")
    p.add_argument("--nsc-share", type=float, default=0.4, help="share of disk, elliptical and bulge+disk galaxies with a 3-8%% nucleus")
    p.add_argument("--neighbours", type=float, default=1.5, help="mean number of neighbours per cutout")
    p.add_argument("--interpolant", choices=["sinc", "lanczos3"], default="sinc",
                   help="how the pixel-sampled PSF stamp is interpolated between pixel centres")
    p.add_argument("--size", type=int, default=100)
    p.add_argument("--first-id", type=int, default=1)
    args = p.parse_args()
    with open(args.psf_json) as f:
        stamps = json.load(f)
    fine_psfs = []
    for stamp in stamps:
        values = np.asarray(stamp["values"], dtype=np.float64).reshape(stamp["size"], stamp["size"])
        interpolate = fine_epsf if args.interpolant == "sinc" else lanczos3_epsf
        fine_psfs.append(interpolate(values / values.sum()))
    os.makedirs(os.path.join(args.out, "cutouts"), exist_ok=True)
    rows = []
    for k, (cls, fps) in enumerate(objects(args)):
        object_id = args.first_id + k
        image, rms, stamp, truth = render(args, object_id, cls, fps, stamps, fine_psfs)
        write_cutout(os.path.join(args.out, "cutouts", f"crosscheck_{object_id:07d}.fits"), object_id, image, rms, stamp)
        rows.append(truth)
        if (k + 1) % 500 == 0:
            print(f"make_set: {k + 1} cutouts", file=sys.stderr, flush=True)
    tmp = os.path.join(args.out, "truth.csv.tmp")
    with open(tmp, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0].keys()))
        writer.writeheader()
        writer.writerows(rows)
    os.replace(tmp, os.path.join(args.out, "truth.csv"))
    print(f"make_set: {len(rows)} cutouts in {args.out}")


if __name__ == "__main__":
    main()
