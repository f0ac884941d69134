"""Several models of one classification task compared side by side (the seed's comparison: NLA,
predictive coding by Z-IL and at equilibrium, and backprop on soft-LIF, all on digits).

Each model gets its own comparison (:func:`neuromorph.compare.compare`, the same backends,
presentation times, seeds and profiles) and its own report in ``OUT/<model>/``; ``OUT`` gets
``metrics.json`` (format :data:`FORMAT`) with, per model, the rate accuracy, the spiking accuracy
against presentation time per backend, the energy per inference per profile and how the weights
were trained (time and sample-steps per second, as recorded in the weights file), and a report
(``report.md``, ``report.html``, ``plots/``) drawing them together. All or nothing.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import jinja2
import numpy as np

from ..files import staged_dir, write_bytes_atomic, write_text_atomic
from ..run.simulate import json_default
from .runner import CompareError

FORMAT = "neuromorph.compare-models/1"


def check_models(models: list) -> None:
    """Raise :class:`CompareError` unless ``models`` are distinct classification models of one task."""
    from .. import families

    names = [m.name for m in models]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise CompareError(f"models are told apart by name, and {', '.join(twice)} is given twice")
    for m in models:
        if not families.of(m).classification(m):
            raise CompareError(f"comparing several models needs classification models of one task; {m.name} "
                               f"(family {m.family}) is not a classification model")
    kinds = sorted({m.task.kind for m in models})
    if len(kinds) > 1:
        raise CompareError(f"the models do different tasks ({', '.join(kinds)}); compare models of one task")


def weights_meta(model, base_dir) -> dict:
    """The metadata ``neuromorph train`` wrote into the model's weights file (empty: none)."""
    if not getattr(model, "weights", None):
        return {}
    path = Path(model.weights)
    path = path if path.is_absolute() or base_dir is None else Path(base_dir) / path
    try:
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["_info"])).get("meta", {}) if "_info" in z.files else {}
    except (OSError, ValueError):
        return {}
    return meta


def _mean(value):
    return value["mean"] if isinstance(value, dict) else value


def summarize(doc: dict, model, meta: dict) -> dict:
    """One model's row of the combined document, from its comparison's ``metrics.json`` and its
    weights file's metadata ``meta``."""
    reference = doc["reference"]
    backends = {name: m for name, m in doc["backends"].items() if name != reference}
    rate = doc["backends"][reference]["accuracy"]
    scheme = getattr(getattr(model, "learning", None), "scheme", None)
    return {
        "family": doc["family"],
        "scheme": scheme,
        "trained_accuracy": (meta.get("metrics") or {}).get("accuracy"),
        "rate_accuracy": {t: _mean(v) for t, v in rate.items()},
        "accuracy": {name: {t: _mean(v) for t, v in m["accuracy"].items()} for name, m in backends.items()},
        "energy_j": {name: {t: dict(e) for t, e in (m["hardware"].get("energy_by_presentation") or {}).items()}
                     for name, m in backends.items() if m["hardware"].get("energy_by_presentation")},
        "training": meta.get("training"),
        "report": f"{doc['model']}/report.html",
    }


def build(docs: dict, models: dict, base_dirs: dict) -> dict:
    """The combined ``metrics.json``: ``docs`` and ``models`` by model name."""
    from ..run.provenance import versions

    first = next(iter(docs.values()))
    return {"format": FORMAT, "task": next(iter(models.values())).task.kind, "reference": first["reference"],
            "presentation_times": first["presentation_times"], "seeds": first["seeds"],
            "profiles": first.get("profiles", []),
            "models": {name: summarize(doc, models[name], weights_meta(models[name], base_dirs[name]))
                       for name, doc in docs.items()},
            "versions": versions()}


def compare_models(models: list, backend_names: list, presentations=None, seeds: int = 1, out=None,
                   spec_files: list | None = None, progress=None, profiles=None, workers=None,
                   scheduler=None) -> dict:
    """Compare each of ``models`` (loaded specs) on ``backend_names`` and write the combined
    report into ``out``; returns the combined document."""
    from . import compare, metrics, report

    check_models(models)
    spec_files = spec_files or [""] * len(models)
    runs, docs, by_name, base_dirs = {}, {}, {}, {}
    for model, spec_file in zip(models, spec_files):
        comparison = compare(model, backend_names, presentations, seeds, spec_file, progress, profiles,
                             workers=workers, scheduler=scheduler)
        runs[model.name], docs[model.name], by_name[model.name] = comparison, metrics.build(comparison), model
        base_dirs[model.name] = Path(spec_file).parent if spec_file else None
    doc = build(docs, by_name, base_dirs)
    if out is not None:
        with staged_dir(out) as stage:
            for name in docs:
                report.write(runs[name], docs[name], stage / name)
            write(doc, stage)
    return doc


# -- the combined report ------------------------------------------------------------------------
def _pct(value) -> str:
    return "–" if value is None else f"{100 * value:.1f} %"


def _joules(value) -> str:
    from .report import _joules as joules

    return joules(value)


def accuracy_rows(doc: dict) -> tuple[list, list]:
    """(header, rows): per model and backend, the accuracy at each presentation time."""
    times = [f"{t:g}" for t in doc["presentation_times"]]
    header = ["model", "backend"] + [f"{float(t) * 1e3:g} ms" for t in times]
    rows = []
    for name, m in doc["models"].items():
        rows.append([name, doc["reference"]] + [_pct(m["rate_accuracy"].get(t)) for t in times])
        for backend, acc in m["accuracy"].items():
            rows.append([name, backend] + [_pct(acc.get(t)) for t in times])
    return header, rows


def model_rows(doc: dict) -> list:
    """Per model: family, scheme, held-out accuracy as trained, training figures."""
    rows = []
    for name, m in doc["models"].items():
        t = m["training"] or {}
        rows.append({"model": name, "family": m["family"], "scheme": m["scheme"] or "–",
                     "rate": _pct(m["trained_accuracy"]),
                     "train_s": "not recorded" if not t else f"{t['wall_s']:.3g} s",
                     "rate_steps": "–" if not t.get("sample_steps_per_s") else f"{t['sample_steps_per_s']:.3g}",
                     "report": m["report"]})
    return rows


def energy_rows(doc: dict) -> tuple[list, list]:
    """(header, rows): energy per inference per model, backend and profile, at each presentation."""
    times = [f"{t:g}" for t in doc["presentation_times"]]
    header = ["model", "backend", "profile"] + [f"{float(t) * 1e3:g} ms" for t in times]
    rows = []
    for name, m in doc["models"].items():
        for backend, by_time in m["energy_j"].items():
            for prof in doc["profiles"]:
                rows.append([name, backend, prof] + [_joules((by_time.get(t) or {}).get(prof)) for t in times])
    return header, rows


def plot_accuracy(doc: dict, path) -> bool:
    """Accuracy against presentation time: one panel per backend, one line per model."""
    from .plots import _save
    from ..run.plots import _pyplot

    plt = _pyplot()
    backends = sorted({b for m in doc["models"].values() for b in m["accuracy"]})
    panels = [doc["reference"]] + backends
    fig, axes = plt.subplots(1, len(panels), figsize=(3.6 * len(panels), 3.4), sharey=True, squeeze=False)
    times = [f"{t:g}" for t in doc["presentation_times"]]
    x = [float(t) * 1e3 for t in times]
    for ax, panel in zip(axes[0], panels):
        for name, m in doc["models"].items():
            acc = m["rate_accuracy"] if panel == doc["reference"] else m["accuracy"].get(panel, {})
            ax.plot(x, [acc.get(t, np.nan) for t in times], "o-", label=name)
        ax.set_title(panel)
        ax.set_xscale("log")
        ax.set_xlabel("presentation time (ms)")
        ax.grid(alpha=0.3)
    axes[0, 0].set_ylabel("held-out accuracy")
    axes[0, -1].legend(fontsize=7)
    return _save(fig, path)


TEMPLATE_MD = """# {{ doc.task }}: {{ doc.models | length }} models, rate and spiking

Reference: the `{{ doc.reference }}` backend; seeds of the spiking realization: {{ doc.seeds | join(", ") }}.
Each model's own report: `<model>/report.html`.

## The models

| model | family | scheme | held-out accuracy as trained | training time | training sample-steps/s |
|---|---|---|---|---|---|
{% for r in models %}| {{ r.model }} | {{ r.family }} | {{ r.scheme }} | {{ r.rate }} | {{ r.train_s }} \
| {{ r.rate_steps }} |
{% endfor %}
Accuracy as trained and training figures come from each weights file, as recorded by `neuromorph
train` on the machine that trained it (nla: at the spec's presentation time; pc: at the fixed point).

## Accuracy against presentation time

| {{ acc_header | join(" | ") }} |
|{% for h in acc_header %}---|{% endfor %}
{% for r in acc_rows %}| {{ r | join(" | ") }} |
{% endfor %}{% if energy_rows %}
## Energy per inference

| {{ energy_header | join(" | ") }} |
|{% for h in energy_header %}---|{% endfor %}
{% for r in energy_rows %}| {{ r | join(" | ") }} |
{% endfor %}{% endif %}
## {{ figure.title }}

![{{ figure.title }}](plots/{{ figure.file }})

## Provenance

`metrics.json` (format `{{ doc.format }}`) holds every number above. Versions:
{% for k, v in doc.versions.items() %}{{ k }} {{ v }}{% if not loop.last %}, {% endif %}{% endfor %}.
"""

TEMPLATE_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ doc.task }}: models compared</title>
<style>
body { font-family: system-ui, sans-serif; max-width: 1200px; margin: 2em auto; color: #222; }
table { border-collapse: collapse; font-size: 0.9em; margin-bottom: 1em; }
th, td { border: 1px solid #ccc; padding: 4px 8px; text-align: right; }
th:first-child, td:first-child { text-align: left; }
img { max-width: 100%; border: 1px solid #eee; }
code { background: #f4f4f4; padding: 0 3px; }
</style></head><body>
<h1>{{ doc.task }}: {{ doc.models | length }} models, rate and spiking</h1>
<p>Reference: the <code>{{ doc.reference }}</code> backend; seeds of the spiking realization:
{{ doc.seeds | join(", ") }}.</p>
<h2>The models</h2>
<table><tr><th>model</th><th>family</th><th>scheme</th><th>held-out accuracy as trained</th>
<th>training time</th><th>training sample-steps/s</th></tr>
{% for r in models %}<tr><td><a href="{{ r.report }}">{{ r.model }}</a></td><td>{{ r.family }}</td>
<td>{{ r.scheme }}</td><td>{{ r.rate }}</td><td>{{ r.train_s }}</td><td>{{ r.rate_steps }}</td></tr>
{% endfor %}</table>
<p><small>Accuracy as trained and training figures come from each weights file, as recorded by
<code>neuromorph train</code> on the machine that trained it (nla: at the spec's presentation time; pc: at the
fixed point).</small></p>
<h2>Accuracy against presentation time</h2>
<table><tr>{% for h in acc_header %}<th>{{ h }}</th>{% endfor %}</tr>
{% for r in acc_rows %}<tr>{% for c in r %}<td>{{ c }}</td>{% endfor %}</tr>
{% endfor %}</table>
{% if energy_rows %}<h2>Energy per inference</h2>
<table><tr>{% for h in energy_header %}<th>{{ h }}</th>{% endfor %}</tr>
{% for r in energy_rows %}<tr>{% for c in r %}<td>{{ c }}</td>{% endfor %}</tr>
{% endfor %}</table>{% endif %}
<h2>{{ figure.title }}</h2>
<img alt="{{ figure.title }}" src="data:image/png;base64,{{ figure.data }}">
<h2>Provenance</h2><p><code>metrics.json</code> (format <code>{{ doc.format }}</code>) holds every number
above. Versions: {% for k, v in doc.versions.items() %}{{ k }} {{ v }}{% if not loop.last %}, {% endif %}
{% endfor %}.</p>
</body></html>
"""


def render(doc: dict, figure: dict) -> tuple[str, str]:
    acc_header, acc_rows = accuracy_rows(doc)
    energy_header, energy = energy_rows(doc)
    values = {"doc": doc, "models": model_rows(doc), "acc_header": acc_header, "acc_rows": acc_rows,
              "energy_header": energy_header, "energy_rows": energy, "figure": figure}
    env_md = jinja2.Environment(autoescape=False, undefined=jinja2.StrictUndefined)
    env_html = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    md = env_md.from_string(TEMPLATE_MD).render(**values)
    html = env_html.from_string(TEMPLATE_HTML).render(**values)
    return md, html


def write(doc: dict, folder: Path) -> None:
    """metrics.json, plots/accuracy_by_model.png, report.md and report.html into ``folder``."""
    write_text_atomic(folder / "metrics.json", json.dumps(doc, indent=2, default=json_default))
    (folder / "plots").mkdir()
    path = folder / "plots" / "accuracy_by_model.png"
    plot_accuracy(doc, path)
    figure = {"file": path.name, "title": "Held-out accuracy against presentation time, per backend",
              "data": base64.b64encode(path.read_bytes()).decode()}
    md, html = render(doc, figure)
    write_text_atomic(folder / "report.md", md)
    write_bytes_atomic(folder / "report.html", html.encode("utf-8"))
