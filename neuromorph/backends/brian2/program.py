"""Running a Brian2 :class:`~neuromorph.equations.Program`: in-process (:func:`run`), as a
standalone script (:func:`render_script`, :func:`write_script`), and as a summary a person reads
(:func:`summary`)."""

from __future__ import annotations

import inspect
import os

import numpy as np

from ...equations import Program, Syn

# ---------------------------------------------------------------------------------------------
# running in-process


def _quantity(b2, value, unit):
    return value if unit == "1" else value * getattr(b2, unit)


def _namespace(b2, spec: dict, timed: dict) -> dict:
    out = {}
    for key, value in spec.items():
        if isinstance(value, str):
            out[key] = timed[value]
        else:
            out[key] = _quantity(b2, *value)
    return out


def syn_namespace(program: Program, syn: Syn) -> dict:
    """A synapse sees its own names and those of the groups it connects (their subexpressions
    are evaluated in the synapse's code)."""
    groups = {g.name: g for g in program.groups}
    return {**groups[syn.source].namespace, **groups[syn.target].namespace, **syn.namespace}


def _init_value(b2, value):
    """Initial values are plain (dimensionless) or ``(value, unit)``."""
    if isinstance(value, tuple):
        return _quantity(b2, np.asarray(value[0]) if np.ndim(value[0]) else value[0], value[1])
    return value


def build(program: Program):
    """Create the Brian2 objects of ``program`` (in the current device); returns a dict by name."""
    import brian2 as b2

    b2.defaultclock.dt = program.dt * b2.second
    b2.seed(program.seed)
    timed = {t.name: b2.TimedArray(t.values, dt=t.dt * b2.second, name=t.name) for t in program.inputs}
    objs = {}
    for g in program.groups:
        ns = _namespace(b2, g.namespace, timed)
        if g.rates is not None:
            obj = b2.PoissonGroup(g.n, rates=g.rates, namespace=ns, name=g.name, order=g.order)
        else:
            kw: dict = {}
            if g.threshold:
                kw.update(threshold=g.threshold, reset=g.reset)
            if g.refractory is not None:
                kw["refractory"] = g.refractory * b2.second
            obj = b2.NeuronGroup(g.n, g.model, method=g.method, namespace=ns, name=g.name, order=g.order, **kw)
        for var, value in g.init.items():
            setattr(obj, var, _init_value(b2, value))
        for name, code, order, *when in g.regular:
            obj.run_regularly(code, when=when[0] if when else "groups", order=order, name=name)
        objs[g.name] = obj
    for s in program.synapses:
        kw = {"method": s.method} if s.method else {}
        ns = _namespace(b2, syn_namespace(program, s), timed)
        obj = b2.Synapses(objs[s.source], objs[s.target], model=s.model, on_pre=s.on_pre,
                          namespace=ns, name=s.name, order=s.order, **kw)
        obj.connect(i=np.asarray(s.i), j=np.asarray(s.j))
        for var, value in s.init.items():
            setattr(obj, var, _init_value(b2, value))
        for var, order in s.summed_order.items():
            obj.summed_updaters[var].order = order
        if s.when:
            obj.pre.when, obj.pre.order = s.when, s.order
        objs[s.name] = obj
    for m in program.monitors:
        if m.spikes:
            objs[m.name] = b2.SpikeMonitor(objs[m.group], name=m.name, when="thresholds", order=m.order)
        else:
            kw = {"dt": m.dt * b2.second} if m.dt else {}
            objs[m.name] = b2.StateMonitor(objs[m.group], list(m.variables), record=True, when=m.when,
                                           order=m.order, name=m.name, **kw)
    return objs


def collect(program: Program, objs) -> tuple[np.ndarray, dict, dict]:
    """(t, traces, spikes) after a run: the readouts, and spike counts per group monitored."""
    import brian2 as b2

    traces, t = {}, None
    for r in program.readouts:
        mon = objs[r.monitor]
        values = np.asarray(getattr(mon, r.variable)).T  # (T, n)
        times = np.asarray(mon.t / b2.second)
        if r.final:
            group = objs[next(m.group for m in program.monitors if m.name == r.monitor)]
            values = np.vstack([values, np.asarray(getattr(group, r.variable)[:])[None]])
            times = np.append(times, program.duration)
        if r.matrix is not None:
            values = values @ np.asarray(r.matrix).T + r.offset
        if r.lanes:
            values = values.reshape(values.shape[0], r.lanes, -1)
        elif r.squeeze:
            values = values[:, 0]
        traces[r.name] = values[r.skip:]
        t = times[r.skip:] - program.t_offset if t is None else t
    spikes = {m.group: np.asarray(objs[m.name].count[:]) for m in program.monitors if m.spikes}
    return (np.zeros(0) if t is None else t), traces, spikes


def shared_weights(syn, copies, n_pre, n_post):
    """A network operation after every step that makes the ``copies`` of a plastic Synapses (``w``,
    pairs within each copy) share their weights: each pair's weight becomes its shared value
    before the step plus the sum of every copy's change in the step, as lanes that average their
    updates (each copy learning at rate / copies) share one weight matrix."""
    import brian2 as b2
    import numpy as np

    i, j = np.asarray(syn.i[:]), np.asarray(syn.j[:])
    order = np.lexsort(((i % n_pre) + n_pre * (j % n_post), j // n_post))  # by copy, then by pair
    in_order = bool(np.array_equal(order, np.arange(len(order))))
    weights = syn.variables["w"]
    shared = np.asarray(weights.get_value())[order].reshape(copies, -1)[0].copy()

    @b2.network_operation(when="end", name=f"{syn.name}_shared")
    def share():
        w = np.array(weights.get_value())
        now = (w if in_order else w[order]).reshape(copies, -1)
        shared[:] = now.sum(axis=0) - (copies - 1) * shared  # shared + the sum of the changes
        if in_order:
            w.reshape(copies, -1)[:] = shared
        else:
            w[order] = np.tile(shared, copies)
        weights.set_value(w)

    return share


def run(program: Program, target: str = "numpy", cache_dir=None):
    """Run ``program`` in this process with code-generation ``target``.

    Returns (t, traces, spikes, objs): readout arrays, spike counts, and the Brian2 objects (for
    reading back state, e.g. learned weights)."""
    import brian2 as b2

    from .targets import activate, deactivate

    activate(target, cache_dir)
    try:
        objs = build(program)
        shares = [shared_weights(objs[name], *sizes) for name, *sizes in program.shared]
        net = b2.Network(list(objs.values()) + shares)
        net.run(program.duration * b2.second, namespace={})
        t, traces, spikes = collect(program, objs)
        return t, traces, spikes, objs
    finally:
        deactivate(target)


# ---------------------------------------------------------------------------------------------
# the standalone script


def _lit(value) -> str:
    """A Python literal for generated code (numbers and names the compilers made)."""
    if isinstance(value, (bool, np.bool_)):
        return repr(bool(value))
    if isinstance(value, (int, np.integer)):
        return repr(int(value))
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    return repr(value)


def _ns_code(spec: dict) -> str:
    items = []
    for key, value in spec.items():
        if isinstance(value, str):
            items.append(f"{key!r}: timed[{value!r}]")
        else:
            v, unit = value
            items.append(f"{key!r}: {_lit(v)}" + ("" if unit == "1" else f" * b2.{unit}"))
    return "{" + ", ".join(items) + "}"


def _value_code(key: str, value, arrays: dict) -> str:
    unit = ""
    if isinstance(value, tuple):
        value, unit = value[0], ("" if value[1] == "1" else f" * b2.{value[1]}")
    if np.ndim(value) == 0:
        return _lit(float(value)) + unit
    arrays[key] = np.asarray(value)
    return f"A[{key!r}]{unit}"


def render_script(program: Program, arrays_file: str) -> tuple[str, dict]:
    """Python source of a standalone script (imports only brian2 and numpy) and the arrays it
    loads from ``arrays_file`` (an ``.npz`` beside it)."""
    arrays: dict = {}
    L: list[str] = []
    w = L.append
    w("#!/usr/bin/env python3")
    w(f'"""Brian2 program for model {program.model!r}, compiled by neuromorph ({program.backend}).')
    w("")
    w("Run:  python script.py --out DIR [--target numpy|cython]   (writes DIR/result.npz)")
    for note in program.notes + [f"substitution: {s}" for s in program.substitutions]:
        w(f"Note: {note}")
    w('"""')
    w("import argparse")
    w("import os")
    w("")
    w("import brian2 as b2")
    w("import numpy as np")
    w("")
    w("HERE = os.path.dirname(os.path.abspath(__file__))")
    w(f"A = np.load(os.path.join(HERE, {arrays_file!r}))")
    w("")
    w("")
    if program.shared:  # the same function the in-process run uses
        w(inspect.getsource(shared_weights).rstrip())
        w("")
        w("")
    w("def main():")
    w("    ap = argparse.ArgumentParser(description=__doc__)")
    w("    ap.add_argument('--out', required=True, help='output folder for result.npz')")
    w("    ap.add_argument('--target', default='numpy', choices=['numpy', 'cython'])")
    w("    args = ap.parse_args()")
    w("    b2.prefs.codegen.target = args.target")
    w("    b2.prefs.codegen.runtime.cython.cache_dir = os.path.join(HERE, '.brian2_cache')")
    w("    b2.prefs.logging.console_log_level = 'WARNING'")
    w(f"    b2.defaultclock.dt = {_lit(program.dt)} * b2.second")
    w(f"    b2.seed({_lit(program.seed)})")
    w("    timed = {}")
    for t in program.inputs:
        key = f"input.{t.name}"
        arrays[key] = np.asarray(t.values)
        w(f"    timed[{t.name!r}] = b2.TimedArray(A[{key!r}], dt={_lit(t.dt)} * b2.second, name={t.name!r})")
    w("    objects = []")
    for g in program.groups:
        w("")
        if g.rates is not None:
            w(f"    {g.name} = b2.PoissonGroup({g.n}, rates={g.rates!r}, namespace={_ns_code(g.namespace)},")
            w(f"                            name={g.name!r}, order={g.order})")
        else:
            w(f"    {g.name} = b2.NeuronGroup({g.n}, '''")
            for line in g.model.strip().splitlines():
                w(f"        {line.strip()}")
            w("        ''',")
            extra = ""
            if g.threshold:
                extra += f", threshold={g.threshold!r}, reset={g.reset!r}"
            if g.refractory is not None:
                extra += f", refractory={_lit(g.refractory)} * b2.second"
            w(f"        method={g.method!r}, namespace={_ns_code(g.namespace)}, name={g.name!r}, "
              f"order={g.order}{extra})")
        for var, value in g.init.items():
            w(f"    {g.name}.{var} = {_value_code(f'{g.name}.{var}', value, arrays)}")
        for name, code, order, *when in g.regular:
            w(f"    {g.name}.run_regularly({code!r}, when={when[0] if when else 'groups'!r}, order={order}, "
              f"name={name!r})")
        w(f"    objects.append({g.name})")
    for s in program.synapses:
        w("")
        w(f"    {s.name} = b2.Synapses({s.source}, {s.target}, model='''")
        for line in s.model.strip().splitlines():
            w(f"        {line.strip()}")
        w("        ''',")
        extra = f", on_pre={s.on_pre!r}" if s.on_pre else ""
        extra += f", method={s.method!r}" if s.method else ""
        w(f"        namespace={_ns_code(syn_namespace(program, s))}, name={s.name!r}, order={s.order}{extra})")
        arrays[f"{s.name}.i"], arrays[f"{s.name}.j"] = np.asarray(s.i), np.asarray(s.j)
        w(f"    {s.name}.connect(i=A[{s.name + '.i'!r}], j=A[{s.name + '.j'!r}])")
        for var, value in s.init.items():
            w(f"    {s.name}.{var} = {_value_code(f'{s.name}.{var}', value, arrays)}")
        for var, order in s.summed_order.items():
            w(f"    {s.name}.summed_updaters[{var!r}].order = {order}")
        if s.when:
            w(f"    {s.name}.pre.when, {s.name}.pre.order = {s.when!r}, {s.order}")
        w(f"    objects.append({s.name})")
    w("")
    for m in program.monitors:
        if m.spikes:
            w(f"    {m.name} = b2.SpikeMonitor({m.group}, name={m.name!r}, when='thresholds', order={m.order})")
        else:
            dt = f", dt={_lit(m.dt)} * b2.second" if m.dt else ""
            w(f"    {m.name} = b2.StateMonitor({m.group}, {list(m.variables)!r}, record=True, when={m.when!r}, "
              f"order={m.order}, name={m.name!r}{dt})")
        w(f"    objects.append({m.name})")
    w("")
    for name, copies, n_pre, n_post in program.shared:
        w(f"    objects.append(shared_weights({name}, {copies}, {n_pre}, {n_post}))")
    w("    net = b2.Network(objects)")
    w(f"    net.run({_lit(program.duration)} * b2.second, namespace={{}})")
    w("")
    w("    result = {}")
    t_set = False
    for r in program.readouts:
        group = next(m.group for m in program.monitors if m.name == r.monitor)
        w(f"    values = np.asarray({r.monitor}.{r.variable}).T")
        if not t_set:
            w(f"    t = np.asarray({r.monitor}.t / b2.second)")
            if r.final:
                w(f"    t = np.append(t, {_lit(program.duration)})")
            w(f"    t = t[{r.skip}:] - {_lit(program.t_offset)}")
            t_set = True
        if r.final:
            w(f"    values = np.vstack([values, np.asarray({group}.{r.variable}[:])[None]])")
        if r.matrix is not None:
            arrays[f"readout.{r.name}.matrix"] = np.asarray(r.matrix)
            offset = _value_code(f"readout.{r.name}.offset", r.offset, arrays)
            w(f"    values = values @ A[{'readout.' + r.name + '.matrix'!r}].T + {offset}")
        if r.lanes:
            w(f"    values = values.reshape(values.shape[0], {r.lanes}, -1)")
        elif r.squeeze:
            w("    values = values[:, 0]")
        w(f"    result[{r.name!r}] = values[{r.skip}:]")
    w("    os.makedirs(args.out, exist_ok=True)")
    w("    np.savez_compressed(os.path.join(args.out, 'result.npz'), t=t, **result)")
    w("")
    w("")
    w("if __name__ == '__main__':")
    w("    main()")
    return "\n".join(L) + "\n", arrays


def summary(program: Program) -> str:
    """What a person reads first: groups, equations, synapses, parameters with units."""
    out = [f"# Brian2 program for {program.model!r} ({program.backend}), dt = {program.dt * 1e3:g} ms, "
           f"duration = {program.duration:g} s"]
    for note in program.notes:
        out.append(f"# note: {note}")
    for sub in program.substitutions:
        out.append(f"# substitution: {sub}")
    for g in program.groups:
        kind = "PoissonGroup" if g.rates is not None else "NeuronGroup"
        out.append(f"\n{g.name} = {kind}({g.n}, method={g.method!r})")
        if g.rates is not None:
            out.append(f"    rates = {g.rates}")
        for line in g.model.strip().splitlines():
            out.append(f"    {line.strip()}")
        if g.threshold:
            out.append(f"    threshold: {g.threshold}; reset: {g.reset}; refractory: {g.refractory} s")
        for name, code, *_ in g.regular:
            out.append(f"    every step ({name}): {code}")
        for key, value in g.namespace.items():
            out.append(f"    {key} = " + (f"TimedArray {value}" if isinstance(value, str) else
                                          f"{value[0]:g}" + ("" if value[1] == "1" else f" {value[1]}")))
        for key, value in g.init.items():
            out.append(f"    {key} (initial) = {_show(value)}")
    for s in program.synapses:
        out.append(f"\n{s.name} = Synapses({s.source} -> {s.target}, {len(s.i)} synapses)")
        for line in s.model.strip().splitlines():
            out.append(f"    {line.strip()}")
        if s.on_pre:
            out.append(f"    on_pre: {s.on_pre}")
    return "\n".join(out)


def _show(value) -> str:
    unit = ""
    if isinstance(value, tuple):
        value, unit = value[0], ("" if value[1] == "1" else f" {value[1]}")
    arr = np.asarray(value, dtype=float)
    if arr.ndim == 0:
        return f"{float(arr):g}{unit}"
    head = ", ".join(f"{v:.4g}" for v in arr[:4])
    return f"[{head}{', ...' if arr.size > 4 else ''}] ({arr.size} values){unit}"


def write_script(program: Program, path) -> list:
    """Write the standalone script and its arrays file; returns the paths written."""
    from ...files import write_bytes_atomic, write_text_atomic

    path = os.fspath(path)
    base = os.path.splitext(os.path.basename(path))[0]
    arrays_file = f"{base}_arrays.npz"
    text, arrays = render_script(program, arrays_file)
    import io

    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    arrays_path = os.path.join(os.path.dirname(os.path.abspath(path)), arrays_file)
    write_bytes_atomic(arrays_path, buf.getvalue())
    write_text_atomic(path, text)
    return [path, arrays_path]
