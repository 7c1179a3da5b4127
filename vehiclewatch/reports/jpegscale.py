"""JPEG decoding at libjpeg-turbo's M/8 scales (3/4, 5/8, ...), which Pillow's draft() lacks."""

import functools
import warnings

from PIL import Image


@functools.cache
def _decoder():
    """(TurboJPEG, pixel format by Pillow mode), or (None, {}) without Debian's libturbojpeg0.
    Loaded on the first photo: numpy (18 MB) stays out of processes that never see one."""
    try:
        from turbojpeg import TJPF_GRAY, TJPF_RGB, TurboJPEG

        return TurboJPEG(), {"RGB": TJPF_RGB, "L": TJPF_GRAY}
    except (ImportError, RuntimeError, OSError):
        return None, {}


def available() -> bool:
    return _decoder()[0] is not None


def _scaled(edge: int, factor: tuple[int, int]) -> int:
    return -(-edge * factor[0] // factor[1])  # libjpeg rounds scaled sizes up


# Past this many decoded pixels a smaller scale is taken when it still leaves min_edge: a
# 100 MP photo (11552 px) decodes at 1/4 (2888 px, 25 MB) rather than 3/8 (4332 px, 56 MB).
BUDGET_PIXELS = 10_000_000


def decode_scaled(
    data: bytes, size: tuple[int, int], mode: str, edge: int, min_edge: int
) -> Image.Image | None:
    """The JPEG `data` (of `size` and `mode` by its header) decoded at the smallest scale that
    leaves a long edge of at least `edge` (or, beyond BUDGET_PIXELS, of at least `min_edge`),
    or None when libjpeg-turbo cannot decode it (library missing, or a CMYK JPEG): the
    caller decodes with Pillow then. A damaged stream raises OSError."""
    turbo, formats = _decoder()
    if mode not in formats:
        return None
    # draft() can only halve a 4000 px photo (2000 px, short of a 3000 px evidence copy), so
    # Pillow decodes it whole (36 MB) and resizes; at 3/4 libjpeg-turbo decodes to 3000 px.
    factors = sorted((f for f in turbo.scaling_factors if f[0] <= f[1]), key=lambda f: f[0] / f[1])
    long_edge = max(size)
    factor = next((f for f in factors if _scaled(long_edge, f) >= edge), (1, 1))
    if _scaled(size[0], factor) * _scaled(size[1], factor) > BUDGET_PIXELS:
        smaller = [f for f in factors[: factors.index(factor)] if _scaled(long_edge, f) >= min_edge]
        factor = smaller[-1] if smaller else factor
    with warnings.catch_warnings():
        # libjpeg-turbo only warns about a truncated or corrupt stream and returns grey rows.
        warnings.simplefilter("error")
        try:
            pixels = turbo.decode(data, pixel_format=formats[mode], scaling_factor=factor)
        except UserWarning as exc:
            raise OSError(str(exc)) from exc
    height, width = pixels.shape[:2]
    # An "RGB" image is copied into Pillow's own layout (the array is freed on return).
    return Image.frombuffer(mode, (width, height), pixels, "raw", mode, 0, 1)
