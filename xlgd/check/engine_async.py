"""The engine's run of a big sheet, in a forked process while the sheet is read.

A 100,000-row sheet takes seconds to read and seconds to compute; on two
cores both can happen at once. The input row is read ahead (`peek_inputs`),
the engine runs in a child that hands its step table back through shared
memory (no pickled copy), and if anything goes wrong there the parent
simply runs the engine itself.
"""

from __future__ import annotations

import numpy as np

from ..core.engine import Result, run
from ..errors import XlgdError
from ..layout import INPUT_ROW


def peek_inputs(ctx, spec, lay):
    """The input row's numbers as `_check_xlgd_sheet` will take them, read ahead of the sheet
    (None when that is not simple): lets the engine run while the sheet is read."""
    if ctx.values is not None and ctx.values.get(spec.name) is not None:
        return None
    try:
        cells = {(c.row, c.col): c for c in ctx.book.first_rows(spec.name, INPUT_ROW)}
    except XlgdError:
        return None
    inputs = {}
    for inp in spec.inputs:
        cell = cells.get((INPUT_ROW, lay.input_index[inp.name] + 1))
        v = cell.value if cell is not None else None
        inputs[inp.name] = v if isinstance(v, float) else inp.value
    return inputs


def _engine_child(conn, out, spec, x, y, inputs, dialect):
    try:
        res = run(spec, x, y, inputs=inputs, dialect=dialect)
        for ci, c in enumerate(spec.columns):  # the step table through shared memory, not the pipe
            out[ci] = res.steps[c.name]
        conn.send(("ok", res.start, res.epochs, res.codes, res.epoch_codes))
    except BaseException as e:  # the parent runs it again and meets the same error itself
        conn.send(("error", repr(e)))
    conn.close()


def engine_async(spec, x, y, inputs, dialect):
    """Start the engine's run in a forked process (the sheet is read meanwhile, on the other
    core); returns a function giving its Result -- or computing it here if that failed."""
    import multiprocessing as mp

    def here():
        return run(spec, x, y, inputs=inputs, dialect=dialect)

    try:
        import mmap

        mpc = mp.get_context("fork")
        shape = (len(spec.columns), spec.n_steps)
        out = np.frombuffer(mmap.mmap(-1, max(8, 8 * shape[0] * shape[1])), np.float64)[:shape[0] * shape[1]]
        out = out.reshape(shape)
        recv, send = mpc.Pipe(duplex=False)
        proc = mpc.Process(target=_engine_child, args=(send, out, spec, x, y, inputs, dialect), daemon=True)
        proc.start()
        send.close()
    except (ValueError, OSError):
        return here

    def result():
        try:
            msg = recv.recv()
        except (EOFError, OSError):
            msg = ("error",)
        finally:
            recv.close()
            proc.join()
        if msg[0] != "ok":
            return here()
        steps = {c.name: out[ci] for ci, c in enumerate(spec.columns)}
        return Result(spec, msg[1], steps, msg[2], msg[3], msg[4], None)

    return result


