"""The comparison's outputs: the terminal table, ``metrics.json``, ``report.md`` and a
self-contained ``report.html`` (PNG figures embedded), written all or nothing."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Callable

import jinja2

from ..files import staged_dir, write_bytes_atomic, write_text_atomic
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
    cols: list[tuple[str, Callable[..., str]]] = []
    first = next(iter(doc["backends"].values()))
    if doc["kind"] == "classification":
        for key in sorted(first["accuracy"], key=float):
            cols.append((f"acc {float(key) * 1e3:g} ms", lambda m, k=key: _num(m["accuracy"][k], 4)))
    else:
        for key in first.get("task", {}):
            cols.append((f"{key} (task)", lambda m, k=key: _num(m["task"].get(k))))
        for var in first.get("spike_agreement") or {}:
            cols.append((f"van Rossum {var}", lambda m, v=var: _num((m.get("spike_agreement") or {}).get(v, {})
                                                                    .get("van_rossum"))))
        for var in first.get("nrmse_vs_rate", {}):
            if var in (first.get("spike_agreement") or {}):  # spike trains: compared by van Rossum above
                continue
            values = [m["nrmse_vs_rate"].get(var) for m in doc["backends"].values()]
            if any(v not in (None, 0.0) for v in values):  # not inputs every backend shares
                cols.append((f"nrmse {var}", lambda m, v=var: _num(m["nrmse_vs_rate"].get(v))))
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

{{ doc.kind }} model (family `{{ doc.family }}`), reference: the `{{ doc.reference }}` backend; seeds of the
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
{% if energy %}
## Hardware estimates

Energy per {{ energy[0].per }} from the operations each spiking run counted, times the profiles'
per-operation energies (statuses say how far to trust them).

| backend | profile | energy | latency | synaptic ops | neuron updates | spikes | statuses |
|---|---|---|---|---|---|---|---|
{% for e in energy %}| {{ e.backend }} | {{ e.profile }} | {{ e.energy }} | {{ e.latency }} | {{ e.syn }} | {{ e.upd }} | {{ e.spk }} | {{ e.statuses }} |
{% endfor %}
{% for p, srcs in sources.items() %}Sources, `{{ p }}`: {% for k, f in srcs.items() %}{{ k }} = {{ f.value }} ({{ f.status }}; {{ f.source }}){% if not loop.last %}; {% endif %}{% endfor %}.
{% endfor %}{% for c in caveats %}- {{ c }}
{% endfor %}{% endif %}{% if tradeoff %}
## Accuracy, latency and energy per inference

| backend | presentation | accuracy |{% for p in trade_profiles %} energy ({{ p }}) |{% endfor %}
|---|---|---|{% for p in trade_profiles %}---|{% endfor %}
{% for r in tradeoff %}| {{ r.backend }} | {{ r.time }} | {{ r.accuracy }} |{% for e in r.energy %} {{ e }} |{% endfor %}
{% endfor %}{% endif %}{% if fit %}
## Fit on `{{ fit.profile }}`: {{ fit.verdict }}

{% for f in fit.findings %}- {{ f.severity }} [{{ f.rule }}] {{ f.message }}{% if f.fix %} — {{ f.fix }}{% endif %}
{% endfor %}{% endif %}
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
<p>{{ doc.kind }} model (family <code>{{ doc.family }}</code>), reference: the <code>{{ doc.reference }}</code> backend;
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
{% if energy %}<h2>Hardware estimates</h2>
<p>Energy per {{ energy[0].per }} from the operations each spiking run counted, times the profiles'
per-operation energies (statuses say how far to trust them).</p>
<table><tr><th>backend</th><th>profile</th><th>energy</th><th>latency</th><th>synaptic ops</th>
<th>neuron updates</th><th>spikes</th><th>statuses</th></tr>
{% for e in energy %}<tr><td>{{ e.backend }}</td><td>{{ e.profile }}</td><td>{{ e.energy }}</td><td>{{ e.latency }}</td>
<td>{{ e.syn }}</td><td>{{ e.upd }}</td><td>{{ e.spk }}</td><td>{{ e.statuses }}</td></tr>
{% endfor %}</table>
{% for p, srcs in sources.items() %}<p><small>Sources, <code>{{ p }}</code>: {% for k, f in srcs.items() %}{{ k }} = {{ f.value }}
({{ f.status }}; {{ f.source }}){% if not loop.last %}; {% endif %}{% endfor %}.</small></p>
{% endfor %}<ul>{% for c in caveats %}<li><small>{{ c }}</small></li>{% endfor %}</ul>{% endif %}
{% if tradeoff %}<h2>Accuracy, latency and energy per inference</h2>
<table><tr><th>backend</th><th>presentation</th><th>accuracy</th>{% for p in trade_profiles %}<th>energy ({{ p }})</th>{% endfor %}</tr>
{% for r in tradeoff %}<tr><td>{{ r.backend }}</td><td>{{ r.time }}</td><td>{{ r.accuracy }}</td>{% for e in r.energy %}<td>{{ e }}</td>{% endfor %}</tr>
{% endfor %}</table>{% endif %}
{% if fit %}<h2>Fit on <code>{{ fit.profile }}</code>: {{ fit.verdict }}</h2><ul>
{% for f in fit.findings %}<li>{{ f.severity }} [{{ f.rule }}] {{ f.message }}{% if f.fix %} — {{ f.fix }}{% endif %}</li>
{% endfor %}</ul>{% endif %}
{% for f in figures %}<h2>{{ f.title }}</h2>
<img alt="{{ f.title }}" src="data:image/png;base64,{{ f.data }}">
{% endfor %}
<h2>Provenance</h2><p><code>metrics.json</code> (format <code>{{ doc.format }}</code>) holds every number
above. Versions: {% for k, v in doc.versions.items() %}{{ k }} {{ v }}{% if not loop.last %}, {% endif %}{% endfor %}.</p>
</body></html>
"""


def _joules(value) -> str:
    if value is None:
        return "unknown"
    for unit, scale in (("J", 1.0), ("mJ", 1e-3), ("uJ", 1e-6), ("nJ", 1e-9)):
        if abs(value) >= scale:
            return f"{value / scale:.3g} {unit}"
    return f"{value / 1e-12:.3g} pJ"


def energy_rows(doc: dict) -> tuple[list, dict, list]:
    """Rows of the energy table, the sources per profile, the caveats."""
    rows, sources, caveats = [], {}, []
    for name, m in doc["backends"].items():
        for prof, e in (m["hardware"].get("energy") or {}).items():
            c = e.get("counts") or {}
            rows.append({"backend": name, "profile": prof, "energy": _joules(e.get("energy_j")),
                         "latency": "unknown" if e.get("latency_s") is None else f"{e['latency_s'] * 1e3:g} ms",
                         "syn": _num(c.get("synaptic_ops"), 4), "upd": _num(c.get("neuron_updates"), 4),
                         "spk": _num(c.get("spikes"), 4), "per": c.get("per", "inference"),
                         "statuses": ", ".join(e.get("statuses", [])) or e.get("why", "")})
            sources[prof] = e["sources"]
            caveats += [x for x in e.get("caveats", []) if x not in caveats]
    return rows, sources, caveats


def tradeoff_rows(doc: dict) -> tuple[list, list]:
    """(profiles, rows): per spiking backend and presentation time, the accuracy and the energy
    per inference on each profile (classification comparisons with profiles)."""
    profiles = list(doc.get("profiles") or [])
    rows = []
    for name, m in doc["backends"].items():
        by_time = m["hardware"].get("energy_by_presentation")
        if not by_time:
            continue
        for t, energies in sorted(by_time.items(), key=lambda kv: float(kv[0])):
            acc = m["accuracy"][t]
            acc = acc["mean"] if isinstance(acc, dict) else acc
            rows.append({"backend": name, "time": f"{float(t) * 1e3:g} ms", "accuracy": _num(acc),
                         "energy": [_joules(energies.get(p)) for p in profiles]})
    return profiles, rows


def render(doc: dict, figures: list) -> tuple[str, str]:
    """(markdown, html) of the report."""
    header, rows = table_rows(doc)
    energy, sources, caveats = energy_rows(doc)
    fit = (doc.get("deploy") or {}).get("fit")
    trade_profiles, tradeoff = tradeoff_rows(doc)
    extra = {"energy": energy, "sources": sources, "caveats": caveats, "fit": fit, "tradeoff": tradeoff,
             "trade_profiles": trade_profiles}
    env_md = jinja2.Environment(autoescape=False, trim_blocks=False, undefined=jinja2.StrictUndefined)
    env_html = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    md = env_md.from_string(TEMPLATE_MD).render(doc=doc, header=header, rows=rows, figures=figures, **extra)
    html = env_html.from_string(TEMPLATE_HTML).render(doc=doc, header=header, rows=rows, figures=figures, **extra)
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
