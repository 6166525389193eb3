"""Check that a headless Chromium draws the Chinese of the HTML reports with the
embedded font, not as missing-glyph boxes.

Run ``python scripts/check_report_render.py REPORT_DIR [--shots DIR]`` on a report
folder (e.g. ``out/pinghu/report``). Chromium runs with a fontconfig that knows only
matplotlib's fonts (DejaVu, STIX), as on a machine without Chinese fonts, so any
Chinese it draws comes from the page. For ``index.html`` and the first township page the script takes a screenshot
of the page as written and of a copy without the embedded ``@font-face``: the copy can
only show boxes, so the two must differ; and it prints the page to PDF, which must be A4
and carry the embedded font. It exits with 1 if a check fails or Chromium does. Look at the screenshots to see the result. Needs ``chromium`` (Debian:
``apt-get install chromium``).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import matplotlib
import numpy as np

CHROMIUM = ("chromium", "chromium-browser", "google-chrome")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--no-first-run", "--hide-scrollbars", "--window-size=900,1600", "--remote-debugging-pipe")
#: fontconfig whose only fonts are matplotlib's (DejaVu, STIX: no Chinese), like a fresh
#: machine without CJK fonts. (With no font at all Chromium rejects web fonts too.)
LATIN_ONLY = """<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "fonts.dtd">
<fontconfig><dir>{fonts}</dir><cachedir>{tmp}/cache</cachedir></fontconfig>
"""
#: Resolves, once every web font is loaded, to "family:status" of each.
FONTS_READY = "document.fonts.ready.then(() => [...document.fonts].map(f => f.family + ':' + f.status).join(','))"


def browser() -> str | None:
    """Path of a Chromium executable, or None."""
    return next((p for p in map(shutil.which, CHROMIUM) if p), None)


class DevTools:
    """Chromium driven over the DevTools protocol on a pipe (fd 3 in, fd 4 out)."""

    def __init__(self, exe: str, env: dict, profile: str, url: str):
        to_chrome, self._write = os.pipe()
        self._read, from_chrome = os.pipe()

        def fds() -> None:  # copies first: a pipe end may already be fd 3 or 4
            commands, replies = os.dup(to_chrome), os.dup(from_chrome)
            os.dup2(commands, 3)
            os.dup2(replies, 4)

        self.proc = subprocess.Popen([exe, *FLAGS, f"--user-data-dir={profile}", url], env=env,
                                     preexec_fn=fds, close_fds=False,  # noqa: PLW1509 (no threads here)
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_chrome)
        os.close(from_chrome)
        self._buffer, self._id, self.session = b"", 0, None

    def _message(self) -> dict:
        while b"\0" not in self._buffer:
            chunk = os.read(self._read, 1 << 16)
            if not chunk:
                raise RuntimeError("chromium closed the DevTools pipe")
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(raw)

    def call(self, method: str, wait_event: str | None = None, **params) -> dict:
        """Send a command (to the attached page, if any); return its result, after
        ``wait_event`` has also arrived when given."""
        self._id += 1
        message = {"id": self._id, "method": method, "params": params}
        if self.session:
            message["sessionId"] = self.session
        os.write(self._write, json.dumps(message).encode() + b"\0")
        result, seen = None, wait_event is None
        while result is None or not seen:
            reply = self._message()
            if reply.get("id") == self._id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                result = reply["result"]
            seen = seen or reply.get("method") == wait_event
        return result

    def close(self) -> None:
        self.session = None
        try:
            self.call("Browser.close")
        except RuntimeError:
            pass
        self.proc.wait(timeout=30)


#: Boxes of the maps on the page (CSS pixels, page coordinates).
MAP_BOXES = ("JSON.stringify([...document.querySelectorAll('svg.map')].map(e => {"
             "const r = e.getBoundingClientRect(); return [r.left + scrollX, r.top + scrollY, r.width, r.height]}))")


def screenshot(page: Path, png: Path, exe: str, full: bool = False) -> str:
    """Screenshot (900 px wide; 1600 px high, or the whole page with ``full``) of ``page``
    into ``png``, its print into a PDF beside it and the boxes of its maps into a JSON
    file beside it, by a Chromium that sees no Chinese font installed, once the page's
    web fonts are loaded; returns their status."""
    fonts_dir = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    with tempfile.TemporaryDirectory() as profile, tempfile.TemporaryDirectory() as tmp:
        conf = Path(tmp) / "fonts.conf"
        conf.write_text(LATIN_ONLY.format(fonts=fonts_dir, tmp=tmp), encoding="utf-8")
        chrome = DevTools(exe, {**os.environ, "FONTCONFIG_FILE": str(conf)}, profile, page.as_uri())
        try:
            pages = [t for t in chrome.call("Target.getTargets")["targetInfos"] if t["type"] == "page"]
            chrome.session = chrome.call("Target.attachToTarget", targetId=pages[0]["targetId"],
                                         flatten=True)["sessionId"]
            loaded = "new Promise(r => document.readyState === 'complete' ? r() : addEventListener('load', r))"
            expression = f"location.protocol === 'file:' && {loaded}.then(() => {FONTS_READY})"
            for _ in range(200):  # until the page (not the first about:blank) has loaded
                try:
                    fonts = chrome.call("Runtime.evaluate", expression=expression, awaitPromise=True)
                except RuntimeError:  # navigation replaced the context under the call
                    fonts = {"result": {"value": False}}
                if fonts["result"]["value"] is not False:
                    break
                time.sleep(0.05)
            fonts = fonts["result"]["value"]
            boxes = chrome.call("Runtime.evaluate", expression=MAP_BOXES)["result"]["value"]
            clip = {}
            if full:
                size = chrome.call("Page.getLayoutMetrics")["cssContentSize"]
                clip = {"clip": {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1},
                        "captureBeyondViewport": True}
            shot = chrome.call("Page.captureScreenshot", format="png", **clip)["data"]
            pdf = chrome.call("Page.printToPDF", preferCSSPageSize=True)["data"]
        finally:
            chrome.close()
    png.write_bytes(base64.b64decode(shot))
    png.with_suffix(".pdf").write_bytes(base64.b64decode(pdf))
    png.with_suffix(".json").write_text(boxes, encoding="utf-8")
    return fonts


#: Elements (outside the SVG drawings, whose own clip holds their content) reaching past the
#: body's right edge: [tag.class, right edge in CSS px].
OVERFLOW = ("JSON.stringify([...document.querySelectorAll('body *')].filter(e => !e.parentElement.closest('svg'))"
            ".map(e => [e.tagName + '.' + (e.getAttribute('class') || ''), e.getBoundingClientRect().right])"
            ".filter(x => x[1] > document.body.getBoundingClientRect().right + 0.5))")
#: Width of an A4 page between roofpv's 14 mm margins, in CSS px (96 per inch).
A4_CONTENT_PX = (210 - 2 * 14) / 25.4 * 96


def print_overflow(page: Path, exe: str, width: float = A4_CONTENT_PX) -> list:
    """What of ``page`` laid out for print on a page ``width`` CSS px wide (A4 between the
    margins) reaches past its right edge: [tag.class, right edge] per element (empty:
    everything fits)."""
    with tempfile.TemporaryDirectory() as profile:
        chrome = DevTools(exe, dict(os.environ), profile, page.as_uri())
        try:
            pages = [t for t in chrome.call("Target.getTargets")["targetInfos"] if t["type"] == "page"]
            chrome.session = chrome.call("Target.attachToTarget", targetId=pages[0]["targetId"],
                                         flatten=True)["sessionId"]
            ready = "location.protocol === 'file:' && document.readyState === 'complete'"
            for _ in range(200):  # until the page (not the first about:blank) has loaded
                try:
                    if chrome.call("Runtime.evaluate", expression=ready)["result"]["value"]:
                        break
                except RuntimeError:  # navigation replaced the context under the call
                    pass
                time.sleep(0.05)
            chrome.call("Emulation.setEmulatedMedia", media="print")
            chrome.call("Emulation.setDeviceMetricsOverride", width=int(width), height=1100,
                        deviceScaleFactor=1, mobile=False)
            return json.loads(chrome.call("Runtime.evaluate", expression=OVERFLOW)["result"]["value"])
        finally:
            chrome.close()


FAMILY = "Noto Sans CJK SC"


def roof_sizes(png: Path, boxes: list[list[float]], colours: list[tuple[int, int, int]],
               tolerance: int = 14) -> np.ndarray:
    """Width (square root of the area, pixels) of each patch of a roof colour drawn
    inside the map ``boxes`` of the screenshot ``png``: connected pixels within
    ``tolerance`` of one of ``colours``; specks under 3 pixels (edge blends) left out."""
    from PIL import Image
    from scipy import ndimage

    image = np.asarray(Image.open(png).convert("RGB")).astype(int)
    sizes = []
    for x, y, w, h in boxes:
        crop = image[int(y) + 1:int(y + h) - 1, int(x) + 1:int(x + w) - 1]
        for colour in colours:
            hit = (np.abs(crop - np.array(colour)).max(axis=2) <= tolerance)
            labels, n = ndimage.label(hit)
            area = np.bincount(labels.ravel())[1:]
            sizes.append(np.sqrt(area[area >= 3]))
    return np.concatenate(sizes) if sizes else np.array([])


def without_font(html: str) -> str:
    """The page with its embedded ``@font-face`` removed."""
    return re.sub(r"@font-face \{[^}]*\}", "", html, count=1)


def check(report: Path, shots: Path, exe: str) -> bool:
    """Screenshots of index.html and the first township page, with and without the
    embedded font; True when each pair differs."""
    shots.mkdir(parents=True, exist_ok=True)
    pages = [report / "index.html", *sorted(report.glob("01*.html"))[:1]]
    ok = True
    for page in pages:
        stem = hashlib.sha1(page.name.encode()).hexdigest()[:8]
        embedded, bare = shots / f"{stem}-embedded.png", shots / f"{stem}-no-font.png"
        fonts = screenshot(page, embedded, exe)
        copy = page.with_name(f".no-font-{page.name}")
        copy.write_text(without_font(page.read_text(encoding="utf-8")), encoding="utf-8")
        try:
            screenshot(copy, bare, exe)
        finally:
            copy.unlink()
        differs = embedded.read_bytes() != bare.read_bytes()
        loaded = fonts == f"{FAMILY}:loaded"
        pdf = embedded.with_suffix(".pdf").read_bytes()
        a4 = re.search(rb"/MediaBox \[0 0 59[45]\.\d* 84[12]\.\d*\]", pdf) is not None
        noto = b"NotoSansCJK" in pdf
        ok &= differs and loaded and a4 and noto
        print(f"{page.name}: web fonts {fonts or 'none'}; {embedded} "
              f"({'differs from' if differs else 'SAME AS'} {bare.name}); print: "
              f"{pdf.count(b'/Type /Page') - pdf.count(b'/Type /Pages')} pages, "
              f"{'A4' if a4 else 'NOT A4'}, {'Noto Sans CJK embedded' if noto else 'NO Noto Sans CJK'}")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report", type=Path, help="report folder with index.html")
    parser.add_argument("--shots", type=Path, default=Path("out/screenshots"), help="folder for the PNGs")
    args = parser.parse_args()
    exe = browser()
    if exe is None:
        print("no chromium found; install it (Debian: apt-get install chromium)", file=sys.stderr)
        return 2
    ok = check(args.report, args.shots, exe)
    print("embedded font in use" if ok else "FAILED: the embedded font made no difference")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
