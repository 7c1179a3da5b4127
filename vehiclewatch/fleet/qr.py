"""QR codes for stickers: computed once at issue, then drawn from the stored modules."""

import qrcode
from qrcode.constants import ERROR_CORRECT_Q

QUIET_ZONE = 4  # modules of white border the standard asks for
# Every mask decodes; scoring all eight to pick one costs 80 % of a code's time, so new
# codes use this one (the version and error-correction level do not depend on it).
MASK_PATTERN = 0


def sticker_url(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/v/{token}"


def compute_modules(url: str) -> str:
    """The module matrix (no quiet zone) as rows of '0'/'1'. qrcode splits the data into
    segments, so the upper-case token part is encoded in alphanumeric mode."""
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_Q, border=0, mask_pattern=MASK_PATTERN)
    code.add_data(url)
    code.make(fit=True)
    return "\n".join("".join("1" if m else "0" for m in row) for row in code.get_matrix())


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
