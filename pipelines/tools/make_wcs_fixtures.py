#!/usr/bin/python3
"""Reference pixel<->sky pairs from astropy.wcs for the TypeScript WCS tests (test/fits/wcs.test.ts).

Rerun with Debian's python3 (astropy 5.2.1) after changing the inputs or the point grids:

    /usr/bin/python3 pipelines/tools/make_wcs_fixtures.py [--shared ../shared] [--out test/fixtures/wcs]

Each fixture holds the HDU's header (every valued card, so the tests can build the WCS without the FITS
reader), pixel -> sky pairs from all_pix2world and sky -> pixel pairs from all_world2pix, both with origin 0
(0-based array indices). all_world2pix runs with a far tighter tolerance than its 1e-4 px default so that the
reference itself is not the error being measured; points where it does not converge are left out and counted.

Distortions: the WCS is always built as WCS(header) without the HDUList, so only SIP applies. astropy would
also apply D2IM/CPDIS lookup tables given the file object; j94f05bgq_flt.fits names none in its SCI headers
(its primary header has a DGEOFILE keyword, but no table extensions), so both ways give the same answer there,
and the script checks that.

The DSS header is recorded without pairs: astropy reads its RA---TAN/CD/PC cards and ignores the plate solution
(PLTRAH, AMDXn) that actually defines the astrometry there, so vis-agn refuses it and the test checks that.
"""
import argparse
import json
import os
import warnings

import astropy
import numpy as np
from astropy.io import fits
from astropy.wcs import WCS, NoConvergence

POINTS = 50
WORLD2PIX = dict(tolerance=1e-11, maxiter=500, adaptive=False, detect_divergence=True, quiet=False)

# (fixture name, file under shared/data, HDU index or EXTNAME, array shape (NAXIS1, NAXIS2) for the point grid or None to
# take NAXISn, expectation). sip.fits has no data and j94f05bgq's SCI arrays were cut to 1x1 for the astropy
# test suite: their grids use the original detector sizes (ACS/WFC chips are 4096x2048).
CASES = [
    ("sip", "fits-conformance/astropy/wcs_sip.fits", 0, (256, 256), "ok"),
    ("j94f05bgq_sci1", "fits-conformance/astropy/wcs_j94f05bgq_flt.fits", 1, (4096, 2048), "ok"),
    ("j94f05bgq_sci2", "fits-conformance/astropy/wcs_j94f05bgq_flt.fits", 4, (4096, 2048), "ok"),
    ("dss", "fits-conformance/astropy/wcs_dss.14.29.56-62.41.05.fits.gz", 0, None, "UnsupportedError"),
    ("euclid_102018665_NEG570040238507752998",
     "euclid-q1/q1_mer_cutout_102018665_NEG570040238507752998.fits", "VIS_BGSUB", None, "ok"),
    ("euclid_102020064_NEG635872258496841682_300px",
     "euclid-q1/q1_mer_cutout_102020064_NEG635872258496841682_300px.fits", "VIS_FLUX", None, "ok"),
    ("euclid_EUCLJ174517.55+655612.5",
     "euclid-q1/q1_mer_cutout_EUCLJ174517.55+655612.5.fits", "VIS_FLUX", None, "ok"),
]

# Headers written here to reach the linear-part and sphere-rotation paths the real files do not: the old
# CDELT + CROTA form, swapped axes, a non-default LONPOLE, the celestial pole as reference point, and RA
# wrapping through 0 near the pole. (fixture name, cards, grid shape.)
SYNTHETIC = [
    ("synthetic_crota", {"CTYPE1": "RA---TAN", "CTYPE2": "DEC--TAN", "CRVAL1": 150.1, "CRVAL2": 2.2,
                         "CRPIX1": 1024.5, "CRPIX2": -300.0, "CDELT1": -1.1e-4, "CDELT2": 1.3e-4, "CROTA2": 27.5,
                         "RADESYS": "FK5", "EQUINOX": 2000.0}, (2048, 2048)),
    ("synthetic_swapped_axes", {"CTYPE1": "DEC--TAN", "CTYPE2": "RA---TAN", "CRVAL1": -30.0, "CRVAL2": 45.0,
                                "CRPIX1": 50.0, "CRPIX2": 60.0, "CDELT1": 2e-4, "CDELT2": -2.5e-4,
                                "CROTA1": -40.0}, (100, 120)),
    ("synthetic_lonpole", {"CTYPE1": "RA---TAN", "CTYPE2": "DEC--TAN", "CRVAL1": 10.0, "CRVAL2": -60.0,
                           "CRPIX1": 0.0, "CRPIX2": 0.0, "PC1_1": 0.9, "PC1_2": 0.2, "PC2_1": -0.1, "PC2_2": 1.1,
                           "CDELT1": -3e-4, "CDELT2": 3e-4, "LONPOLE": 150.0}, (500, 400)),
    ("synthetic_pole_reference", {"CTYPE1": "RA---TAN", "CTYPE2": "DEC--TAN", "CRVAL1": 0.0, "CRVAL2": 90.0,
                                  "CRPIX1": 200.0, "CRPIX2": 200.0, "CD1_1": -1e-3, "CD2_2": 1e-3},
     (400, 400)),
    ("synthetic_ra_wrap", {"CTYPE1": "RA---TAN", "CTYPE2": "DEC--TAN", "CRVAL1": 359.99, "CRVAL2": 89.9,
                           "CRPIX1": 100.0, "CRPIX2": 100.0, "CD1_1": -2e-3, "CD1_2": 1e-4, "CD2_1": 1e-4,
                           "CD2_2": 2e-3}, (200, 200)),
]


def header_values(header):
    """Valued cards in order; a repeated keyword (FILTER in the Euclid cutouts) keeps its first value, as
    astropy's header[key] does; no WCS keyword repeats in these files.

    Cards astropy cannot parse (the DSS header's SKEW) are listed apart instead of failing the whole dump.
    """
    out, unparsable = {}, []
    for card in header.cards:
        if card.keyword in ("", "COMMENT", "HISTORY", "END"):
            continue
        try:
            value = card.value
        except fits.VerifyError:
            unparsable.append(card.keyword)
            continue
        if isinstance(value, fits.card.Undefined):
            value = None
        elif isinstance(value, (np.bool_, bool)):
            value = bool(value)
        elif isinstance(value, (np.integer, int)):
            value = int(value)
        elif isinstance(value, (np.floating, float)):
            value = float(value)
        out.setdefault(card.keyword, value)
    return out, unparsable


def pixel_grid(rng, shape, reference):
    """Corners, centre, the reference pixel, points beyond each edge and far outside, the rest inside."""
    nx, ny = shape
    fixed = [
        (0, 0), (nx - 1, 0), (0, ny - 1), (nx - 1, ny - 1),
        ((nx - 1) / 2, (ny - 1) / 2), reference,
        (-0.5 * nx, (ny - 1) / 2), (1.5 * nx, (ny - 1) / 2), ((nx - 1) / 2, -0.5 * ny), ((nx - 1) / 2, 1.5 * ny),
        (-2.0 * nx, -2.0 * ny), (3.0 * nx, 3.0 * ny), (-2.0 * nx, 3.0 * ny), (3.0 * nx, -2.0 * ny),
    ]
    inside = rng.uniform([-0.5, -0.5], [nx - 0.5, ny - 0.5], size=(POINTS - len(fixed), 2))
    return np.vstack([np.array(fixed, dtype=float), inside])


def reference_pairs(wcs, rng, shape, reference):
    """[x, y, ra, dec] and [ra, dec, x, y] rows; astropy's world columns follow the header's axis order."""
    radec = [wcs.wcs.lng, wcs.wcs.lat]
    pix = pixel_grid(rng, shape, reference)
    pixel_to_sky = np.hstack([pix, wcs.all_pix2world(pix, 0)[:, radec]])

    sky_in = wcs.all_pix2world(pixel_grid(rng, shape, reference), 0)
    keep = np.ones(len(sky_in), dtype=bool)
    try:
        pix_out = wcs.all_world2pix(sky_in, 0, **WORLD2PIX)
    except NoConvergence as e:
        pix_out = e.best_solution
        for bad in (e.divergent, e.slow_conv):
            if bad is not None:
                keep[bad] = False
    sky_to_pixel = np.hstack([sky_in[:, radec], pix_out])[keep]
    return pixel_to_sky, sky_to_pixel, int((~keep).sum())


def reference_fixture(header, hdul, rng, shape, meta):
    values, unparsable = header_values(header)
    fixture = {
        "generator": f"pipelines/tools/make_wcs_fixtures.py, astropy {astropy.__version__}",
        **meta,
        "header": values,
        "unparsableCards": unparsable,
    }
    if meta.get("expect", "ok") != "ok":
        return fixture
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wcs = WCS(header)
        if hdul is not None:
            with_tables = WCS(header, hdul)
            if with_tables.cpdis1 or with_tables.cpdis2 or with_tables.det2im1 or with_tables.det2im2:
                raise SystemExit(f"{meta['file']}: lookup-table distortions present; the SIP-only reference differs")
    if shape is None:
        shape = (header["NAXIS1"], header["NAXIS2"])
    reference = (wcs.wcs.crpix[0] - 1, wcs.wcs.crpix[1] - 1)
    p2s, s2p, dropped = reference_pairs(wcs, rng, shape, reference)
    fixture.update({
        "gridShape": list(shape),
        "sip": wcs.sip is not None,
        "pixelScaleArcsec": float(np.sqrt(abs(np.linalg.det(wcs.pixel_scale_matrix))) * 3600),
        "pixelToSky": p2s.tolist(),
        "skyToPixel": s2p.tolist(),
        "skyToPixelDropped": dropped,
    })
    return fixture


def write(out, name, fixture):
    path = os.path.join(out, f"{name}.json")
    with open(path, "w") as f:
        json.dump(fixture, f, indent=1)
        f.write("\n")
    print(f"{path}: {fixture.get('expect', 'ok')}, {len(fixture.get('pixelToSky', []))} pixel->sky, "
          f"{len(fixture.get('skyToPixel', []))} sky->pixel, {fixture.get('skyToPixelDropped', 0)} not converged")


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    repo = os.path.normpath(os.path.join(here, "..", ".."))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", default=os.environ.get("VIS_AGN_SHARED", os.path.join(repo, "..", "shared")))
    parser.add_argument("--out", default=os.path.join(repo, "test", "fixtures", "wcs"))
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    rng = np.random.default_rng(20250301)

    for name, cards, shape in SYNTHETIC:
        header = fits.Header()
        header["NAXIS"], header["NAXIS1"], header["NAXIS2"] = 2, shape[0], shape[1]
        header.update(cards)
        write(args.out, name, reference_fixture(header, None, rng, shape, {"file": None, "expect": "ok"}))

    for name, rel, hdu, shape, expect in CASES:
        with fits.open(os.path.join(args.shared, "data", rel)) as hdul:
            header = hdul[hdu].header
            meta = {
                "file": rel,
                "hduIndex": hdul.index_of(hdu) if isinstance(hdu, str) else hdu,
                "extname": header.get("EXTNAME", ""),
                "expect": expect,
            }
            write(args.out, name, reference_fixture(header, hdul, rng, shape, meta))


if __name__ == "__main__":
    main()
