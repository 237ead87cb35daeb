"""Debian's Chromium, headless, driven by Playwright's Python package: the e2e tests' one launcher."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]


@contextmanager
def browser_pages(shot_path: Callable[[int], Path]) -> Iterator[Callable[[], Page]]:
    """A factory of fresh pages, each in its own browser context (its own cookies); on an exception,
    a full-page screenshot of the n-th page at `shot_path(n)`, said on stdout, before it propagates."""
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        pages: list[Page] = []

        def new_page() -> Page:
            page = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
            pages.append(page)
            return page

        try:
            yield new_page
        except BaseException:
            for n, page in enumerate(pages):
                shot = shot_path(n)
                shot.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(shot), full_page=True)
                print(f"screenshot: {shot} ({page.url})")
            raise
        finally:
            browser.close()


@contextmanager
def browser_page(shot: Path) -> Iterator[Page]:
    """One fresh page (see `browser_pages`); on an exception, its screenshot at `shot`."""
    with browser_pages(lambda _n: shot) as new_page:
        yield new_page()
