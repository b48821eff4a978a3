"""Regenerates the screenshots in docs/screenshots: each example is profiled with the heatline
command, its report rendered with render_html and photographed in headless Chromium at 1280x900
(the first screen a user sees); then the flame graph of examples/demo.py's report alone, the
pointer on python_work (flame.png); then the case study's before/after, numpy_copy.py against
numpy_copy_fixed.py, as `heatline diff --html` draws it (diff.png).

Usage: python3 benchmarks/screenshots.py [--dark]
Run it with the Python that has heatline installed with its views-test extra (.venv's).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Callable, Optional, TextIO

from browser import headless_chromium

from heatline.report import diff_documents, render_diff_html, render_html

REPO_ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = REPO_ROOT / "docs" / "screenshots"
EXAMPLES = ("demo", "numpy_copy", "numpy_copy_fixed")
# The examples photographed on their own; numpy_copy_fixed.py is shown only against numpy_copy.py.
PAGES = ("demo", "numpy_copy")
WIDTH, HEIGHT = 1280, 900
# The flame graph's shot: the pointer rests on a frame, which shows its hover below it (the
# section is given the room: a hover that would leave the section goes above the pointer).
FLAME_HOVER = """
const section = document.querySelector('section.hl-flame');
section.style.paddingBottom = '110px';
section.scrollIntoView();
const frame = [...document.querySelectorAll('section.hl-flame .hl-frame')].find(f => f.textContent === 'python_work');
const box = frame.getBoundingClientRect();
frame.dispatchEvent(new MouseEvent('mousemove', {bubbles: true, clientX: box.left + box.width / 2, clientY: box.top + 8}));
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dark", action="store_true", help="dark mode; the files are NAME-dark.png")
    args = parser.parse_args()
    # Run from the repository, so that paths read examples/NAME.py as a user's would.
    os.chdir(REPO_ROOT)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    heatline = Path(sys.executable).parent / "heatline"
    driver = headless_chromium(WIDTH, HEIGHT, dark=args.dark)
    try:
        with tempfile.TemporaryDirectory() as directory:
            documents = {}
            for name in EXAMPLES:
                profile = Path(directory) / f"{name}.json"
                subprocess.run([str(heatline), "--json", "--outfile", str(profile), f"examples/{name}.py"],
                               check=True, capture_output=True)
                documents[name] = json.loads(profile.read_text())
            for name in PAGES:
                photograph(driver, Path(directory), name, args.dark,
                           lambda out, name=name: render_html(documents[name], out))
            photograph(driver, Path(directory), "flame", args.dark, lambda out: render_html(documents["demo"], out),
                       element="section.hl-flame", script=FLAME_HOVER)
            photograph(driver, Path(directory), "diff", args.dark,
                       lambda out: render_diff_html(diff_documents(documents["numpy_copy"],
                                                                   documents["numpy_copy_fixed"]), out))
    finally:
        driver.quit()


def photograph(driver: Any, directory: Path, name: str, dark: bool, render: Callable[[TextIO], None],
               element: Optional[str] = None, script: Optional[str] = None) -> None:
    """The page's first screen, or only `element` (a CSS selector); `script` runs first."""
    page = directory / f"{name}.html"
    with open(page, "w", encoding="utf-8") as out:
        render(out)
    driver.get(page.as_uri())
    if script:
        driver.execute_script(script)
    target = SCREENSHOTS / f"{name}{'-dark' if dark else ''}.png"
    if element:
        driver.find_element("css selector", element).screenshot(str(target))
    else:
        driver.save_screenshot(str(target))
    print(target.relative_to(REPO_ROOT))


if __name__ == "__main__":
    main()
