"""The matrix report in a real headless browser (Debian's chromium, in the doctor's list): it loads,
lays out the grid and the plots, and fetches nothing."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

from lab.matrix import html

from .test_matrix_report import ITEMS

# appended to a copy of the page (the report itself has no script): what the browser laid out
PROBE = """<script>
const box = e => { const b = e.getBoundingClientRect(); return [Math.round(b.width), Math.round(b.height)]; };
document.body.setAttribute('data-probe', JSON.stringify({
  grids: [...document.querySelectorAll('table.grid')].map(box),
  squares: document.querySelectorAll('table.grid td.cell a').length,
  plots: [...document.querySelectorAll('figure.plot svg')].map(s => [...box(s), s.querySelectorAll('rect').length]),
  details: document.querySelectorAll('details[id]').length,
  fetched: performance.getEntriesByType('resource').map(e => e.name),
}));
</script>"""


def chromium() -> str:
    found = shutil.which("chromium")
    assert found, "chromium is missing: `lab doctor --install` installs it (the report's browser test)"
    return found


def run_chromium(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([chromium(), "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
                           "--host-resolver-rules=MAP * ~NOTFOUND", *args], capture_output=True, text=True,
                          timeout=120, check=False)


def test_report_in_a_headless_browser(tmp_path: Path) -> None:
    page = html.write(html.Run("now", ITEMS), tmp_path / "report.html", history=[html.Run("before", ITEMS[:3])])
    probed = tmp_path / "probed.html"
    probed.write_text(page.read_text().replace("</body>", PROBE + "</body>"))
    dom = run_chromium("--dump-dom", probed.as_uri())
    assert dom.returncode == 0, dom.stderr[-2000:]
    found = re.search(r'data-probe="([^"]*)"', dom.stdout)
    assert found, dom.stdout[:2000]
    probe = json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    assert len(probe["grids"]) == 4 and all(w > 50 and h > 20 for w, h in probe["grids"])
    assert probe["squares"] == len(ITEMS)
    assert len(probe["plots"]) == 3  # by CPU model, by memory, the runs
    assert all(w >= 400 and h >= 200 and rects > 5 for w, h, rects in probe["plots"])
    assert probe["details"] == len(ITEMS)
    assert probe["fetched"] == []  # self-contained: the browser loaded nothing besides the page
    shot = tmp_path / "report.png"
    res = run_chromium("--window-size=1200,1600", f"--screenshot={shot}", page.as_uri())
    assert res.returncode == 0 and shot.stat().st_size > 20_000, res.stderr[-2000:]
