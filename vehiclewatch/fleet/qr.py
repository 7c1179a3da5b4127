"""QR codes for stickers: computed once at issue, then drawn from the stored modules."""

import zxingcpp

QUIET_ZONE = 4  # modules of white border the standard asks for
# A pixel of zxing-cpp's image as a module: dark (0) is "1", light (255) is "0".
_MODULE = bytes(0x31 if value < 128 else 0x30 for value in range(256))


def sticker_url(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/v/{token}"


def compute_modules(url: str) -> str:
    """The module matrix (no quiet zone) as rows of '0'/'1', error correction Q at the
    smallest version that holds the URL. zxing-cpp's encoder (in C) splits the data into
    segments, so the upper-case token part is encoded in alphanumeric mode, and picks the
    mask in microseconds, where qrcode's pure Python took milliseconds a code."""
    code = zxingcpp.create_barcode(url, zxingcpp.BarcodeFormat.QRCode, ec_level="Q")
    image = code.to_image(scale=1, add_quiet_zones=False)
    width = memoryview(image).shape[1]
    modules = bytes(image).translate(_MODULE).decode()
    return "\n".join(modules[i : i + width] for i in range(0, len(modules), width))


def dark_runs(matrix: list[list[bool]]):
    """(row, first column, length) of each horizontal run of dark modules, for drawing
    the code as a few rectangles instead of one per module."""
    for y, row in enumerate(matrix):
        x = 0
        width = len(row)
        while x < width:
            if row[x]:
                start = x
                while x < width and row[x]:
                    x += 1
                yield y, start, x - start
            else:
                x += 1
