"""Regenerates docs/notebook.png: examples/notebook.ipynb executed, exported to HTML, and
photographed by headless Chromium.

    pip install -e ".[notebook]"          # nbconvert, nbclient, ipykernel
    apt-get install chromium pngquant      # Debian's packages (or set CHROMIUM=/path/to/chrome)
    python examples/notebook_screenshot.py [OUT.png]

The notebook runs in a fresh kernel of this Python, from examples/ (its paths are relative to
it), exactly as ``jupyter nbconvert --execute --to html`` runs it. Nothing here is hidden: a
cell that fails stops the script with the cell's error. pngquant, when installed, makes the PNG a
palette image (about 80 KiB instead of 200, the text unchanged to the eye).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "examples" / "notebook.ipynb"
SCREENSHOT = ROOT / "docs" / "notebook.png"
WINDOW = "1200,1560"
"""Chromium's window (CSS pixels): wide enough for the tables, tall enough for every output."""


def executed_html(notebook: Path) -> str:
    """The notebook run top to bottom in a new kernel, exported as standalone HTML."""
    import nbclient
    import nbconvert
    import nbformat

    document = nbformat.read(notebook, as_version=4)
    nbclient.NotebookClient(document, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(notebook.parent)}}).execute()
    body, _ = nbconvert.HTMLExporter(template_name="lab").from_notebook_node(document)
    return body


def chromium() -> str:
    found = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        raise SystemExit("no Chromium: apt-get install chromium, or set CHROMIUM to a Chrome binary")
    return found


def screenshot(page: Path, out: Path) -> None:
    command = [
        chromium(), "--headless", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
        "--force-device-scale-factor=1", f"--window-size={WINDOW}", f"--screenshot={out}",
        # The page is a local file: no network (nbconvert's template links MathJax and
        # require.js from a CDN; the displays need neither).
        "--virtual-time-budget=3000", "--proxy-server=127.0.0.1:9", page.as_uri(),
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.insert(1, "--no-sandbox")  # Chromium refuses to run its sandbox as root
    subprocess.run(command, check=True, capture_output=True, timeout=120)


def made_smaller(png: Path) -> None:
    """The PNG as a palette image, in place, if pngquant is installed."""
    pngquant = shutil.which("pngquant")
    if pngquant is not None:
        subprocess.run([pngquant, "--force", "--strip", "--quality=70-95", "--output", str(png), str(png)],
                       check=True, capture_output=True, timeout=120)


def main(argv: list[str]) -> None:
    out = Path(argv[0]) if argv else SCREENSHOT
    with tempfile.TemporaryDirectory() as scratch:
        page = Path(scratch) / "notebook.html"
        page.write_text(executed_html(NOTEBOOK), encoding="utf-8")
        screenshot(page, out.resolve())
    made_smaller(out)
    print(f"{out}: {out.stat().st_size / 1024:.0f} KiB")


if __name__ == "__main__":
    main(sys.argv[1:])
