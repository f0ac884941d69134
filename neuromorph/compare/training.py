"""The report of one model trained on several backends (``neuromorph train -b rate,nengo,loihi``):
learning curves side by side with the rate reference, what each backend learned (its
substitutions), the synaptic updates counted and the energy of learning on the Loihi 1 profile.

Reads the runs' ``summary.json`` documents only; written as ``report.md``, a self-contained
``report.html`` and ``learning_curves.png``, all or nothing."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import jinja2

from ..files import staged_dir, write_bytes_atomic, write_text_atomic
from ..run.plots import plot_learning_curves
from ..run.simulate import json_default
from .report import _joules, _num

FORMAT = "neuromorph.training-report/1"
#: Substitutions that say what a backend's learning left out or changed.
LEARNING_SUBSTITUTIONS = ("learning.", "nla.inference_only")


def document(model_name: str, summaries: dict) -> dict:
    """The report's numbers: per backend (in run order) the curve, the final metrics, time and
    throughput, the learning substitutions, the updates and the energy of learning."""
    rows = {}
    for backend, s in summaries.items():
        learning = s.get("learning") or {}
        energy = learning.get("energy") or {}
        rows[backend] = {
            "metrics": {k: v for k, v in s["metrics"].items() if isinstance(v, (int, float))},
            "curve": s["curve"], "wall_s": s["wall_s"], "sample_steps_per_s": s["sample_steps_per_s"],
            "learning_steps": s["engine"].get("learning_steps"),
            "synapses": learning.get("synapses"), "updates": learning.get("updates"),
            "updates_per_s": learning.get("updates_per_s"),
            "rules": sorted({e["rule"] for e in (learning.get("edges") or {}).values()}),
            "energy_j": energy.get("energy_j"), "energy_per_j": energy.get("energy_per_j"), "per": energy.get("per"),
            "energy_parts_j": energy.get("parts_j"), "energy_why": energy.get("why"),
            "energy_sources": energy.get("sources"), "energy_profile": energy.get("profile"),
            "substitutions": [x for x in s.get("substitutions", [])
                              if x["id"].startswith(LEARNING_SUBSTITUTIONS)],
        }
    return {"format": FORMAT, "model": model_name, "reference": next(iter(summaries)), "backends": rows}


def plot_curves(doc: dict, path) -> None:
    """Every metric of the curves in its own panel, one line per backend."""
    plot_learning_curves({b: r["curve"] for b, r in doc["backends"].items()},
                         f"{doc['model']}: learning on each backend", path, reference=doc["reference"])


def table(doc: dict) -> tuple[list, list]:
    """(header, rows) of the summary table."""
    metrics = list(dict.fromkeys(k for r in doc["backends"].values() for k in r["metrics"]
                                 if k in ("accuracy", "accuracy_before_training", "cost", "cost_before_training",
                                          "cost_reduction", "teacher_angle_deg")))
    header = (["backend"] + [m.replace("_", " ") for m in metrics]
              + ["wall (s)", "sample-steps/s", "plastic synapses", "synaptic updates", "updates/s",
                 "energy of learning", "per sample"])
    rows = []
    for backend, r in doc["backends"].items():
        per = ("–" if r["energy_per_j"] is None else
               f"{_joules(r['energy_per_j'])} / {'image' if r['per'] == 'inference' else 's'}")
        energy = _joules(r["energy_j"]) if r["energy_j"] is not None else f"– ({r['energy_why'] or 'not counted'})"
        rows.append([backend] + [_num(r["metrics"].get(m), 4) for m in metrics]
                    + [f"{r['wall_s']:.1f}", _num(r["sample_steps_per_s"], 3), _num(r["synapses"]),
                       _num(None if r["updates"] is None else float(r["updates"]), 4),
                       _num(r["updates_per_s"], 3), energy, per])
    return header, rows


TEMPLATE_MD = """# {{ doc.model }}: learning on {{ doc.backends | length }} backends

Each backend trained the model with its task's protocol (`neuromorph train`); `{{ doc.reference }}` is the reference.
Synaptic updates: one per plastic synapse per update interval (every simulation step, or the chip's
learning epoch), an upper bound on what a chip's learning engine does. Energy of learning on the
{{ profile }} profile: updates x {{ update_pj }} pJ plus the spiking activity of the runs that learned.

| {{ header | join(" | ") }} |
|{% for h in header %}---|{% endfor %}
{% for r in rows %}| {{ r | join(" | ") }} |
{% endfor %}
![learning curves](learning_curves.png)

## What each backend learned
{% for line in learned %}
- {{ line }}{% endfor %}

{% if sources %}
## Energy figures ({{ profile }})
{% for k, f in sources.items() %}{% if f %}- {{ k }}: {{ f.value }} ({{ f.status }}; {{ f.source }})
{% endif %}{% endfor %}{% endif %}
"""

TEMPLATE_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ doc.model }}: learning on each backend</title>
<style>body{font-family:sans-serif;max-width:72em;margin:2em auto}table{border-collapse:collapse}
td,th{border:1px solid #bbb;padding:.25em .6em;text-align:right}td:first-child{text-align:left}</style></head>
<body><h1>{{ doc.model }}: learning on {{ doc.backends | length }} backends</h1>
<p>Each backend trained the model with its task's protocol; <code>{{ doc.reference }}</code> is the reference.
Synaptic updates: one per plastic synapse per update interval (an upper bound on a chip's learning engine).
Energy of learning on the {{ profile }} profile: updates &times; {{ update_pj }} pJ plus the spiking activity of the
runs that learned.</p>
<table><tr>{% for h in header %}<th>{{ h }}</th>{% endfor %}</tr>
{% for r in rows %}<tr>{% for c in r %}<td>{{ c }}</td>{% endfor %}</tr>{% endfor %}</table>
<h2>Learning curves</h2><img alt="learning curves" src="data:image/png;base64,{{ figure }}">
<h2>What each backend learned</h2><ul>
{% for line in learned %}<li>{{ line }}</li>{% endfor %}</ul>
{% if sources %}<h2>Energy figures ({{ profile }})</h2><ul>
{% for k, f in sources.items() %}{% if f %}<li>{{ k }}: {{ f.value }} ({{ f.status }}; {{ f.source }})</li>
{% endif %}{% endfor %}</ul>{% endif %}
</body></html>
"""


def learned_lines(doc: dict) -> list:
    """Per backend: its rules and what its learning left out or changed (the substitutions)."""
    lines = []
    for backend, r in doc["backends"].items():
        rules = f" (rules: {', '.join(r['rules'])})" if r["rules"] else ""
        what = "; ".join(f"{s['replacement']} ({s['id']}: {s['why']})" for s in r["substitutions"])
        lines.append(f"{backend}{rules}: " + (what or "the model's own rule, every plastic weight"))
    return lines


def render(doc: dict, figure: str) -> tuple[str, str]:
    """(markdown, html) of the report; ``figure``: the curves' PNG, base64."""
    header, rows = table(doc)
    sources = next((r["energy_sources"] for r in doc["backends"].values() if r["energy_sources"]), None) or {}
    profile = next((r["energy_profile"] for r in doc["backends"].values() if r["energy_profile"]), "loihi1")
    update = (sources.get("synaptic_update_pj") or {}).get("value")
    values = {"doc": doc, "header": header, "rows": rows, "sources": sources, "profile": profile,
              "update_pj": "unknown" if update is None else f"{update:g}", "figure": figure,
              "learned": learned_lines(doc)}
    env_md = jinja2.Environment(autoescape=False, undefined=jinja2.StrictUndefined)
    env_html = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    md = env_md.from_string(TEMPLATE_MD).render(**values)
    html = env_html.from_string(TEMPLATE_HTML).render(**values)
    return md, html


def write(model_name: str, summaries: dict, out) -> Path:
    """``training.json``, ``learning_curves.png``, ``report.md`` and ``report.html`` into ``out``
    (all or nothing, next to the runs' own folders); returns the html report's path."""
    doc = document(model_name, summaries)
    with staged_dir(out) as stage:
        plot_curves(doc, stage / "learning_curves.png")
        figure = base64.b64encode((stage / "learning_curves.png").read_bytes()).decode()
        md, html = render(doc, figure)
        write_text_atomic(stage / "training.json", json.dumps(doc, indent=2, default=json_default))
        write_text_atomic(stage / "report.md", md)
        write_bytes_atomic(stage / "report.html", html.encode("utf-8"))
    return Path(out) / "report.html"
