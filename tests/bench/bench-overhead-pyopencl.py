#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""bench-overhead's loops written with PyOpenCL, for comparison.

    bench-overhead-pyopencl.py [CALLS [BATCHES]]   (default 1000, 30)

The same operations, method and report as tests/bench/bench-overhead.c:
each call enqueues behind one user event (opened after the timed loop)
and keeps the event it gets until the batch drains; the median over
batches of microseconds per call. The kernel is the library's cl/fill.cl, its three arguments set by
the call as PyOpenCL users write it (kernel(queue, global, local, *args)).
The device comes from PYOPENCL_CTX, else CLQ_DEVICE's name substring,
else the first device. Exits 77 (skipped) without PyOpenCL
(Debian: python3-pyopencl).
"""
import os
import statistics
import sys
import time

try:
    import numpy as np
    import pyopencl as cl
except ImportError:
    print('PyOpenCL is not installed (python3-pyopencl): skipped')
    sys.exit(77)

HERE = os.path.dirname(os.path.abspath(__file__))
FILL = os.path.join(HERE, '..', '..', 'cl', 'fill.cl')
GLOBAL, LOCAL = 1024, 64


def pick_device():
    devices = [d for p in cl.get_platforms() for d in p.get_devices()]
    spec = os.environ.get('CLQ_DEVICE', '').lower()
    for d in devices:
        if spec and (spec in d.name.lower() or spec in d.platform.name.lower()):
            return d
    return devices[0]


def main(argv):
    calls = int(argv[0]) if argv else 1000
    batches = int(argv[1]) if len(argv) > 1 else 30
    if os.environ.get('PYOPENCL_CTX'):
        ctx = cl.create_some_context(interactive=False)
    else:
        ctx = cl.Context([pick_device()])
    device = ctx.devices[0]
    queue = cl.CommandQueue(ctx)
    with open(FILL) as f:
        program = cl.Program(ctx, f.read()).build()
    kernel = program.fill
    array = cl.Buffer(ctx, cl.mem_flags.READ_WRITE, GLOBAL * 4)
    target = cl.Buffer(ctx, cl.mem_flags.READ_WRITE, 4)
    source = np.zeros(1, np.uint32)
    n, value = np.uint32(GLOBAL), np.float32(1.0)

    def kernel_call(gate):
        return kernel(queue, (GLOBAL,), (LOCAL,), array, n, value,
                      wait_for=gate)

    def marker_call(gate):
        return cl.enqueue_marker(queue, wait_for=gate)

    def write_call(gate):
        return cl.enqueue_copy(queue, target, source, is_blocking=False,
                               wait_for=gate)

    # The events are dropped after the gate opens: dropping the event of an
    # unfinished copy from host memory blocks in PyOpenCL (its NannyEvent
    # waits, to keep the host memory alive), which would deadlock here.
    def batch(call):
        gate = [cl.UserEvent(ctx)]
        events = []
        t0 = time.perf_counter()
        for _ in range(calls):
            events.append(call(gate))
        per_call = (time.perf_counter() - t0) / calls
        gate[0].set_status(cl.command_execution_status.COMPLETE)
        queue.finish()
        del events
        return per_call

    print(f'device: {device.platform.name} / {device.name}')
    print(f'PyOpenCL {cl.VERSION_TEXT}: {calls} calls x {batches} batches, '
          'median us per call (wall clock)')
    print(f'{"op":<8} {"pyopencl us":>12}')
    for name, call in (('kernel', kernel_call), ('marker', marker_call),
                       ('write', write_call)):
        batch(call)  # warm-up
        times = [batch(call) for _ in range(batches)]
        print(f'{name:<8} {statistics.median(times) * 1e6:12.3f}')


if __name__ == '__main__':
    main(sys.argv[1:])
