"""Browser tests: Playwright driving Debian's Chromium against `vehiclewatch serve`."""
