"""Spiking vs rate: run a model on several backends with the same inputs and seeds
(:mod:`.runner`), measure each against the rate reference (:mod:`.metrics`), and write the table,
``metrics.json`` and the report (:mod:`.report`, :mod:`.plots`)."""

from __future__ import annotations

from .runner import CompareError, Comparison, compare


def compare_and_report(model, backend_names, presentations=None, seeds=1, out=None, spec_file="", progress=None,
                       deploy=None, profiles=None, workers=None, scheduler=None):
    """Run :func:`compare`, build ``metrics.json`` (plus ``deploy``, the manifest, if given) and
    write the report into ``out`` if given. ``profiles``: hardware profiles for the quantized-rate
    runs and the energy estimates; ``workers`` / ``scheduler``: where the runs go (a local Dask
    cluster, an existing one; default here). Returns (comparison, metrics document)."""
    from . import metrics, report

    comparison = compare(model, backend_names, presentations, seeds, spec_file, progress, profiles, workers=workers,
                         scheduler=scheduler)
    doc = metrics.build(comparison)
    if deploy is not None:
        doc["deploy"] = deploy
    if out is not None:
        report.write(comparison, doc, out)
    return comparison, doc


__all__ = ["CompareError", "Comparison", "compare", "compare_and_report"]
