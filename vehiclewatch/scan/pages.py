"""The scan page's HTML kept per worker for the card it shows.

The card is read afresh on every scan (one query), so a reissue, revocation, retirement or
sealing change shows on the very next scan on every worker: only rendering the same card
again is saved. A page is kept per card as read, page language and address (the language
switch's links carry the address), and only for visitors without a session of their own:
staff see their menu, and a flashed message is shown once. VEHICLEWATCH_SCAN_PAGES_KEPT
pages at most (0: every scan is rendered)."""

from collections import OrderedDict
from collections.abc import Callable, Hashable
from threading import Lock

from flask import current_app, session
from flask_login import current_user

from ..languages import page_language


class RenderedPages:
    """At most `size` pages, the least recently shown dropped first."""

    def __init__(self, size: int):
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
    size = current_app.config["SCAN_PAGES_KEPT"]
    if not size or current_user.is_authenticated or session.get("_flashes"):
        return render()
    pages = current_app.extensions.get("scan_pages")
    if pages is None:
        pages = current_app.extensions["scan_pages"] = RenderedPages(size)
    return pages.get((card, page_language().code, full_path), render)
