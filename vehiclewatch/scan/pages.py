"""The scan page's HTML kept per worker for the card it shows.

The card is read afresh on every scan (one query), so a reissue, revocation, retirement or
sealing change shows on the very next scan on every worker: only rendering the same card
again is saved. A page is kept per card as read, page language and address (the language
switch's links carry the address), and only for visitors without a session of their own:
staff see their menu, and a flashed message is shown once."""

from collections import OrderedDict
from collections.abc import Callable, Hashable
from threading import Lock

from flask import current_app, session
from flask_login import current_user

from ..languages import page_language

PAGES_KEPT = 4096  # about 4 KB each: 16 MB at most per worker


class RenderedPages:
    """At most `size` pages, the least recently shown dropped first."""

    def __init__(self, size: int = PAGES_KEPT):
        self.size = size
        self._pages: OrderedDict[Hashable, str] = OrderedDict()
        self._lock = Lock()  # the development server serves in threads

    def get(self, key: Hashable, render: Callable[[], str]) -> str:
        with self._lock:
            page = self._pages.get(key)
            if page is not None:
                self._pages.move_to_end(key)
                return page
        page = render()
        with self._lock:
            self._pages[key] = page
            if len(self._pages) > self.size:
                self._pages.popitem(last=False)
        return page


def scan_page(card: Hashable, full_path: str, render: Callable[[], str]) -> str:
    """The page for this card: kept, or rendered now (and kept when it may be)."""
    if current_user.is_authenticated or session.get("_flashes"):
        return render()
    pages = current_app.extensions.setdefault("scan_pages", RenderedPages())
    return pages.get((card, page_language().code, full_path), render)
