"""Screenshot of the page for the README: loads the long-range example and waits for "French".

    .venv/bin/python scripts/screenshot.py http://127.0.0.1:8000/ docs/screenshot.png

Debian's chromium through Playwright (never `playwright install`); prints the suggestions shown.
"""
import shutil
import sys

from playwright.sync_api import expect, sync_playwright

url, out = sys.argv[1], sys.argv[2]
with sync_playwright() as p:
    b = p.chromium.launch(executable_path=shutil.which("chromium"), headless=True, args=["--no-sandbox"])
    page = b.new_page(viewport={"width": 860, "height": 700})
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(url)
    page.click("#example")
    expect(page.locator(".suggestion").first).to_have_attribute("data-word", "French")
    page.mouse.move(0, 0)
    page.wait_for_timeout(300)
    page.screenshot(path=out, full_page=True)
    print([s.inner_text().replace("\n", " ") for s in page.locator(".suggestion").all()], errors)
    b.close()
