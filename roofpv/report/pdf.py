"""PDF copies of the report pages, printed on A4 by headless Chromium.

Each page prints as it would from the browser (``@page { size: A4 }`` in the page's
CSS, the embedded font, vector maps and charts), one PDF per page, plus ``city.pdf``:
the city overview followed by every township page, each starting on a new sheet.
Chromium is found on the ``PATH`` (``chromium``, ``chromium-browser``,
``google-chrome``); it runs without network, GPU, sandbox or a profile of the user.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from roofpv.errors import PdfError

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-pdf-header-footer", "--virtual-time-budget=20000")
#: Name of the combined PDF of the city.
COMBINED = "city.pdf"
#: Seconds a page may take to print.
TIMEOUT_S = 180


def browser() -> str | None:
    """Path of a Chromium executable on the PATH, or None."""
    return next((p for p in map(shutil.which, BROWSERS) if p), None)


def combined_html(pages: dict[str, str]) -> str:
    """One HTML document of ``index.html`` followed by the body of every other page,
    each from a new sheet (the pages share one embedded font subset and one style)."""
    index = pages["index.html"]
    bodies = [re.search(r"<body>(.*)</body>", html, re.S).group(1) for name, html in pages.items()
              if name != "index.html"]
    extra = "".join(f'<div class="page-break">{b}</div>' for b in bodies)
    style = "<style>.page-break { break-before: page; page-break-before: always; }</style>"
    return index.replace("</head>", f"{style}</head>", 1).replace("</body>", f"{extra}</body>", 1)


def print_pdf(html: Path, pdf: Path, exe: str) -> None:
    """Print the page ``html`` to ``pdf`` with Chromium ``exe``."""
    with tempfile.TemporaryDirectory(prefix="roofpv-chromium-") as profile:
        try:
            done = subprocess.run([exe, *FLAGS, f"--user-data-dir={profile}", f"--print-to-pdf={pdf}",
                                   html.resolve().as_uri()], capture_output=True, timeout=TIMEOUT_S)
        except subprocess.TimeoutExpired as error:
            raise PdfError(f"Chromium did not print {html.name} within {TIMEOUT_S} s") from error
    if done.returncode != 0 or not pdf.exists() or pdf.stat().st_size == 0:
        tail = done.stderr.decode(errors="replace").strip().splitlines()[-3:]
        raise PdfError(f"Chromium could not print {html.name} (exit {done.returncode}): {' '.join(tail)}")


def pdfs(pages: dict[str, str], exe: str | None = None) -> dict[str, bytes]:
    """PDF of every page (``index.pdf``, ``01-….pdf``) and :data:`COMBINED`, by name."""
    exe = exe or browser()
    if exe is None:
        raise PdfError("PDF needs Chromium; install it (Debian/Ubuntu: apt-get install chromium) "
                       "or leave out --pdf")
    out = {}
    with tempfile.TemporaryDirectory(prefix="roofpv-pdf-") as tmp:
        folder = Path(tmp)
        for name, html in {**pages, COMBINED.replace(".pdf", ".html"): combined_html(pages)}.items():
            source = folder / name
            source.write_text(html, encoding="utf-8")
            target = source.with_suffix(".pdf")
            print_pdf(source, target, exe)
            out[target.name] = target.read_bytes()
    return out
