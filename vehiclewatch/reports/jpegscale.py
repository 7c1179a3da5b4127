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


def decode_scaled(
    data: bytes, size: tuple[int, int], mode: str, min_edge: int
) -> Image.Image | None:
    """The JPEG `data` (of `size` and `mode` by its header) decoded at the smallest scale that
    leaves a long edge of at least `min_edge`, or None when libjpeg-turbo cannot decode it
    (library missing, or a CMYK JPEG): the caller decodes with Pillow then. A damaged stream
    raises OSError."""
    turbo, formats = _decoder()
    if mode not in formats:
        return None
    # draft() can only halve a 4000 px photo (2000 px, short of a 3000 px evidence copy), so
    # Pillow decodes it whole (36 MB) and resizes; at 3/4 libjpeg-turbo decodes to 3000 px.
    edge = max(size)
    factors = sorted((f for f in turbo.scaling_factors if f[0] <= f[1]), key=lambda f: f[0] / f[1])
    factor = next((f for f in factors if _scaled(edge, f) >= min_edge), (1, 1))
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
