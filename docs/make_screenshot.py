"""Screenshot the real report, reports/index.html, into docs/report-screenshot.png for the README.

Run from the repository root after `nox -s repro` and `nox -s bisect -- rotary_xpos_batch1_seq32 x-transformers`:
``python docs/make_screenshot.py``. It needs Debian's ``chromium`` package.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.integration.test_html_browser import chromium  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--page", type=Path, default=ROOT / "reports" / "index.html")
    parser.add_argument("--output", type=Path, default=ROOT / "docs" / "report-screenshot.png")
    parser.add_argument("--size", default="1280,1500", help="window width,height in pixels")
    args = parser.parse_args()
    if not args.page.is_file():
        raise SystemExit(f"{args.page}: no report yet; run nox -s repro first")
    with tempfile.TemporaryDirectory() as scratch:
        chromium(
            Path(scratch),
            "--hide-scrollbars",
            f"--window-size={args.size}",
            f"--screenshot={args.output.resolve()}",
            args.page.resolve().as_uri(),
        )
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
