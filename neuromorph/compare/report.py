"""The comparison's outputs: the terminal table, ``metrics.json``, ``report.md`` and a
self-contained ``report.html`` (PNG figures embedded), written all or nothing."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import jinja2

from ..run.files import staged_dir, write_bytes_atomic, write_text_atomic
from ..run.simulate import json_default
from . import metrics as M
from .plots import FIGURES


def _num(value, digits=3) -> str:
    if value is None:
        return "–"
    if isinstance(value, dict) and "mean" in value:
        if value["mean"] is None:
            return "–"
        lo, hi = value["ci95"]
        return f"{value['mean']:.{digits}g} ± {(hi - lo) / 2:.2g}"
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return str(value)


def columns(doc: dict) -> list:
    """(header, getter) pairs of the summary table."""
    cols = []
    first = next(iter(doc["backends"].values()))
    if doc["kind"] == "classification":
        for key in sorted(first["accuracy"], key=float):
            cols.append((f"acc {float(key) * 1e3:g} ms", lambda m, k=key: _num(m["accuracy"][k], 4)))
    else:
        for var, val in first.get("nrmse_vs_rate", {}).items():
            if val is not None:
                cols.append((f"nrmse {var}", lambda m, v=var: _num(m["nrmse_vs_rate"][v])))
    cols += [("spikes", lambda m: _num(m["spike_count"], 6)), ("neurons", lambda m: _num(m["neurons"])),
             ("rate Hz", lambda m: _num(m["mean_rate_hz"])), ("wall s", lambda m: _num(m["wall_s"])),
             ("subs", lambda m: str(len(m["substitutions"]))), ("runs on", lambda m: m["hardware"]["runs_on"])]
    return cols


def table_rows(doc: dict) -> tuple[list, list]:
    cols = columns(doc)
    header = ["backend"] + [c[0] for c in cols]
    rows = [[name] + [get(m) for _, get in cols] for name, m in doc["backends"].items()]
    return header, rows


def text_table(doc: dict) -> str:
    header, rows = table_rows(doc)
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    line = lambda r: "  ".join(str(c).ljust(w) for c, w in zip(r, widths))  # noqa: E731
    return "\n".join([line(header), line(["-" * w for w in widths])] + [line(r) for r in rows])


TEMPLATE_MD = """# {{ doc.model }}: spiking vs rate

{{ doc.kind }} model (family `{{ doc.family }}`), reference: the `rate` backend; seeds of the
spiking realization: {{ doc.seeds | join(", ") }}.{% if doc.get("deploy") %} Deployed from `{{ doc.deploy.manifest }}`
(target `{{ doc.deploy.target }}`, profile `{{ doc.deploy.profile }}`).{% endif %}

| {{ header | join(" | ") }} |
|{% for h in header %}---|{% endfor %}
{% for r in rows %}| {{ r | join(" | ") }} |
{% endfor %}
{% for name, m in doc.backends.items() %}{% if m.substitutions %}
## What the `{{ name }}` compiler substituted
{% for s in m.substitutions %}{% if s is mapping %}- **{{ s.id }}**: {{ s.original }} → {{ s.replacement }} ({{ s.why }})
{% else %}- {{ s }}
{% endif %}{% endfor %}{% endif %}{% endfor %}
{% for f in figures %}
## {{ f.title }}

![{{ f.title }}](plots/{{ f.file }})
{% endfor %}
## Provenance

`metrics.json` (format `{{ doc.format }}`) holds every number above. Versions:
{% for k, v in doc.versions.items() %}{{ k }} {{ v }}{% if not loop.last %}, {% endif %}{% endfor %}.
"""

TEMPLATE_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ doc.model }}: spiking vs rate</title>
<style>
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; color: #222; }
table { border-collapse: collapse; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 4px 8px; text-align: right; }
th:first-child, td:first-child, td:last-child { text-align: left; }
img { max-width: 100%; border: 1px solid #eee; }
code { background: #f4f4f4; padding: 0 3px; }
li { margin: 0.2em 0; }
</style></head><body>
<h1>{{ doc.model }}: spiking vs rate</h1>
<p>{{ doc.kind }} model (family <code>{{ doc.family }}</code>), reference: the <code>rate</code> backend;
seeds of the spiking realization: {{ doc.seeds | join(", ") }}.{% if doc.get("deploy") %} Deployed from
<code>{{ doc.deploy.manifest }}</code> (target <code>{{ doc.deploy.target }}</code>, profile
<code>{{ doc.deploy.profile }}</code>).{% endif %}</p>
<table><tr>{% for h in header %}<th>{{ h }}</th>{% endfor %}</tr>
{% for r in rows %}<tr>{% for c in r %}<td>{{ c }}</td>{% endfor %}</tr>
{% endfor %}</table>
{% for name, m in doc.backends.items() %}{% if m.substitutions %}
<h2>What the <code>{{ name }}</code> compiler substituted</h2><ul>
{% for s in m.substitutions %}{% if s is mapping %}<li><b>{{ s.id }}</b>: {{ s.original }} → {{ s.replacement }}
<small>({{ s.why }})</small></li>{% else %}<li>{{ s }}</li>{% endif %}
{% endfor %}</ul>{% endif %}{% endfor %}
{% for f in figures %}<h2>{{ f.title }}</h2>
<img alt="{{ f.title }}" src="data:image/png;base64,{{ f.data }}">
{% endfor %}
<h2>Provenance</h2><p><code>metrics.json</code> (format <code>{{ doc.format }}</code>) holds every number
above. Versions: {% for k, v in doc.versions.items() %}{{ k }} {{ v }}{% if not loop.last %}, {% endif %}{% endfor %}.</p>
</body></html>
"""


def render(doc: dict, figures: list) -> tuple[str, str]:
    """(markdown, html) of the report."""
    header, rows = table_rows(doc)
    env_md = jinja2.Environment(autoescape=False, trim_blocks=False, undefined=jinja2.StrictUndefined)
    env_html = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    md = env_md.from_string(TEMPLATE_MD).render(doc=doc, header=header, rows=rows, figures=figures)
    html = env_html.from_string(TEMPLATE_HTML).render(doc=doc, header=header, rows=rows, figures=figures)
    return md, html


def write(comparison, doc: dict, out) -> Path:
    """Write metrics.json, plots/*.png, report.md and report.html into ``out`` (all or nothing)."""
    M.validate(doc)
    with staged_dir(out) as stage:
        write_text_atomic(stage / "metrics.json", json.dumps(doc, indent=2, default=json_default))
        (stage / "plots").mkdir()
        figures = []
        for name, title, draw, needs in FIGURES:
            path = stage / "plots" / name
            if draw(comparison if needs == "comparison" else doc, path):
                data = base64.b64encode(path.read_bytes()).decode()
                figures.append({"file": name, "title": title, "data": data})
        md, html = render(doc, figures)
        write_text_atomic(stage / "report.md", md)
        write_bytes_atomic(stage / "report.html", html.encode("utf-8"))
    return Path(out) / "report.html"
