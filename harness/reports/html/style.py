"""The page's look: outcome colours and symbols, the style sheet, the one script, and HTML text helpers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from html import escape

from packaging.version import InvalidVersion, Version

from harness.markdown import visible
from harness.model.outcome import Outcome
from harness.model.probe_record import capped


@dataclass(frozen=True)
class OutcomeStyle:
    label: str
    symbol: str
    colour: str
    """Okabe-Ito colours, told apart by the colour-blind; cell text is dark on every one of them."""
    hatched: bool = False
    """Stripes tell apart the two outcomes that share a hue."""
    meaning: str = ""


CELL_TEXT = "#111111"
OUTCOME_STYLES: Mapping[Outcome, OutcomeStyle] = {
    Outcome.REPRODUCED: OutcomeStyle("reproduced", "✗", "#D55E00", meaning="the recorded failure occurred"),
    Outcome.PASSED: OutcomeStyle("passed", "✓", "#009E73", meaning="the case ran to completion"),
    Outcome.DIFFERENT_ERROR: OutcomeStyle("different error", "≠", "#E69F00", meaning="another exception was raised"),
    Outcome.UNRESOLVABLE: OutcomeStyle("unresolvable", "∅", "#C8C8C8", meaning="no environment satisfies the pins"),
    Outcome.INSTALL_FAILED: OutcomeStyle(
        "install failed", "⚠", "#A0A0A0", hatched=True, meaning="the environment could not be built"
    ),
    Outcome.TIMEOUT: OutcomeStyle("timeout", "◷", "#CC79A7", meaning="the case exceeded its time limit"),
    Outcome.CRASHED: OutcomeStyle(
        "crashed", "☠", "#CC79A7", hatched=True, meaning="the interpreter died or ran out of memory"
    ),
    Outcome.FLAKY: OutcomeStyle(
        "flaky", "≈", "#F0E442", hatched=True, meaning="repeated runs disagreed: the failure occurred in some of them"
    ),
    Outcome.SETUP_FAILED: OutcomeStyle(
        "set-up failed", "⊘", "#56B4E9", meaning="setup() raised: this release could not be tested"
    ),
    Outcome.UNAVAILABLE: OutcomeStyle(
        "unavailable",
        "↻",
        "#E0E0E0",
        hatched=True,
        meaning="the packages could not be reached (index down, offline): probed again on the next run",
    ),
}


TEXT_LIMIT = 4_000
"""Characters of one untrusted string the page shows (a ``<pre>`` block may ask for more): one 20 MB message
must not make an 80 MB page, and it appears in a cell's tooltip as well as in its details."""
BLOCK_LIMIT = 20_000


def esc(value: object, *, limit: int = TEXT_LIMIT, keep_end: bool = False) -> str:
    """Every string from a case, a record or an exception goes through here on its way into the page.

    Capped (the cut marked), then control and invisible characters (ESC, NUL, U+202E) made visible as ``\\xNN``,
    then HTML-escaped.
    """
    return escape(visible(capped(str(value), limit, keep_end=keep_end)), quote=True)


def outcome_class(outcome: Outcome) -> str:
    return "o-" + outcome.value.lower().replace("_", "-")


def plural(count: int) -> str:
    return "" if count == 1 else "s"


def version_key(text: str) -> tuple[int, Version | str]:
    """Version order where the text is a version, text order after those where it is not."""
    try:
        return (0, Version(text))
    except InvalidVersion:
        return (1, text)


def css() -> str:
    outcome_rules = []
    for outcome, style in OUTCOME_STYLES.items():
        background = style.colour
        if style.hatched:
            background = (
                "repeating-linear-gradient(135deg, rgba(255,255,255,.45) 0 4px, transparent 4px 9px), " + style.colour
            )
        outcome_rules.append(f".{outcome_class(outcome)}{{background:{background};color:{CELL_TEXT}}}")
    return _CSS + "".join(outcome_rules)


_CSS = """
:root{--bg:#fbfbfa;--fg:#1c1c1c;--muted:#5b5b5b;--line:#d9d9d6;--panel:#ffffff;--accent:#0072B2;
font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,"Noto Sans","Liberation Sans",sans-serif;
font-size:15px;line-height:1.45;color:var(--fg);background:var(--bg)}
@media (prefers-color-scheme:dark){:root{--bg:#17181a;--fg:#e8e8e6;--muted:#a6a6a2;--line:#3a3b3e;--panel:#202124;
--accent:#56B4E9}}
body{margin:0}
main{max-width:1200px;margin:0 auto;padding:24px 28px 64px}
h1{font-size:1.6rem;margin:0 0 4px}
h2{font-size:1.25rem;margin:0 0 6px}
h3{font-size:1.02rem;margin:22px 0 8px}
h4{font-size:.95rem;margin:16px 0 6px}
h5{font-size:.85rem;margin:12px 0 4px}
a{color:var(--accent)}
.muted{color:var(--muted)}
.mono,code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"Liberation Mono","DejaVu Sans Mono",monospace;
font-size:.88em}
section{background:var(--panel);border:1px solid var(--line);border-radius:10px;padding:18px 20px;margin:18px 0}
header{margin-bottom:8px}
table{border-collapse:collapse}
table.plain th,table.plain td{text-align:left;padding:5px 10px;border-bottom:1px solid var(--line);vertical-align:top}
caption{text-align:left;font-weight:600;padding:4px 0;color:var(--muted);font-size:.85rem}
.signature{margin:8px 0}
.signature th{font-weight:500;color:var(--muted);white-space:nowrap}
.legend ul{list-style:none;padding:0;margin:0;font-size:.92rem;
display:grid;grid-template-columns:repeat(auto-fill,minmax(340px,1fr));
gap:6px 18px}
.chip{display:inline-block;padding:1px 8px;border-radius:999px;font-size:.82rem;font-weight:600;white-space:nowrap;
border:1px solid rgba(0,0,0,.15)}
.unprobed{background:transparent;color:var(--muted);border:1px dashed var(--line)}
.flag{display:block;font-size:.68rem;font-weight:700;text-transform:uppercase;letter-spacing:.03em;
color:var(--bg);background:var(--fg);border-radius:4px;padding:0 4px;margin:0 auto 3px;width:max-content}
.legend .flag{display:inline-block;margin:0}
.timeline{list-style:none;display:flex;flex-wrap:wrap;align-items:flex-end;gap:6px;padding:0;margin:6px 0 10px}
.timeline li{border-radius:6px;padding:4px 8px;text-align:center;min-width:64px;border:1px solid rgba(0,0,0,.15)}
.timeline .version{display:block;font-weight:600;font-size:.85rem;white-space:nowrap}
.timeline .date{display:block;font-size:.7rem;opacity:.85}
.timeline .gap{border:1px dashed var(--line);color:var(--muted);font-size:.75rem;align-self:center}
.timeline .boundary{outline:3px solid var(--fg);outline-offset:1px}
.timeline .candidate{outline:2px dashed var(--fg);outline-offset:1px}
.scroll{overflow-x:auto}
table.matrix{margin:4px 0 8px}
table.matrix caption{font-family:ui-monospace,monospace}
table.matrix th{font-size:.82rem;font-weight:600;padding:6px 10px;text-align:center;white-space:nowrap}
table.matrix th[scope=row]{text-align:right}
table.matrix td.cell{min-width:9.5rem;height:2.2rem;text-align:center;border:3px solid var(--panel);border-radius:8px;
font-weight:600;font-size:.88rem;padding:0}
table.matrix td.cell a{display:block;padding:8px 10px;color:inherit;text-decoration:none}
table.matrix td.cell a:hover,table.matrix td.cell a:focus{text-decoration:underline}
.probes details{border-top:1px solid var(--line);padding:5px 0}
.probes summary{cursor:pointer;display:flex;gap:10px;align-items:baseline;flex-wrap:wrap}
.probes summary::before{content:"▸";color:var(--muted);width:.8em}
.probes details[open]>summary::before{content:"▾"}
.probes summary .chip{min-width:8.2rem;text-align:center}
.probes summary .muted{font-size:.85rem;overflow-wrap:anywhere}
details:target,details[open]{background:color-mix(in srgb,var(--accent) 5%,transparent)}
.probe-body{padding:6px 6px 10px 18px}
.env tr.pinned td:first-child{font-weight:700}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px;margin:10px 0}
dl.facts dt{color:var(--muted)}
dl.facts dd{margin:0;overflow-wrap:anywhere}
pre{background:color-mix(in srgb,var(--fg) 6%,transparent);padding:10px 12px;border-radius:6px;overflow-x:auto;
white-space:pre-wrap;margin:0}
.empty{color:var(--muted)}
"""

# Opening the details a heat-map cell links to; without scripts the link still scrolls to its summary.
SCRIPT = (
    "function openTarget(){var id=location.hash.slice(1);if(!id)return;var el=document.getElementById(id);"
    "if(el&&el.tagName==='DETAILS'){el.open=true;}}"
    "window.addEventListener('hashchange',openTarget);openTarget();"
)
