#!/usr/bin/env python3
# The notify-libuv example's failure paths and awkward streams, each with
# its exit status (exactly 1 or 0: a sanitizer's or valgrind's report
# exits 3) and its messages:
#   fail-chunk      --fail-chunk 4: chunk 4's device work fails; the run
#                   names it, exits 1 and does not hang.
#   consumer-stops  --output /dev/full: the write fails, the loop stops
#                   first; the producer's EPIPE is reported as the
#                   consequence (not "the producer failed") and the byte
#                   count says what was expected.
#   nonblocking     the output is a non-blocking pipe read slowly: short
#                   writes and EAGAIN are written through; every output
#                   sample checked against the producer's samples.
#   stdin-length    --stdin: with --chunks, a stream cut short at a sample
#                   (or longer) is an error; without, any length is taken.
#   setup-fails     uv_poll_init() or uv_read_start() fails (uv-fault.c,
#                   LD_PRELOAD, from NOTIFY_LIBUV_UV_FAULT): the run says
#                   so, exits 1, and leaves no handle or loop open.
# usage: check-notify-libuv.py NOTIFY_LIBUV [SCENARIO]... (default: all)
# NOTIFY_LIBUV_WRAPPER (words split as a shell would), e.g. a valgrind
# command line, is put in front of every run.
import array, fcntl, os, re, shlex, subprocess, sys, tempfile, time

demo = sys.argv[1]
wrapper = shlex.split(os.environ.get("NOTIFY_LIBUV_WRAPPER", ""))
TIMEOUT = 600 if wrapper else 120


def run(*args, stdin=None, stdout=subprocess.DEVNULL, input=None):
    """Runs the demo; returns (exit status, stderr)."""
    p = subprocess.run([*wrapper, demo, *args], input=input, stdin=stdin,
                       stdout=stdout, stderr=subprocess.PIPE,
                       timeout=TIMEOUT)
    return p.returncode, p.stderr.decode()


def producer_samples(n):
    """The producer's first n samples (its LCG), as float32 values."""
    state, out = 1, array.array("f")
    for _ in range(n):
        state = (state * 1664525 + 1013904223) & 0xFFFFFFFF
        out.append(float(state >> 12))
    return out


def fail_chunk():
    rc, err = run("--chunks", "12", "--chunk-kib", "16", "--slots", "3",
                  "--output", "/dev/null", "--fail-chunk", "4")
    assert rc == 1, (rc, err)
    assert re.search(r"^notify-libuv: chunk 4 failed on the device "
                     r"\(status -\d+\)$", err, re.M), err
    # chunks before it were done before the gate existed
    for k in range(4):
        assert f"chunk {k} failed" not in err, err
    assert "the producer failed" not in err, err
    assert re.search(r"[1-9]\d* chunks failed$", err, re.M), err
    print("fail-chunk: chunk 4 reported failed, exit 1")


def consumer_stops():
    # 512 KiB: more than the slots and a pipe hold, so the producer is
    # still writing when the loop stops.
    rc, err = run("--chunks", "32", "--chunk-kib", "16", "--slots", "3",
                  "--output", "/dev/full")
    assert rc == 1, (rc, err)
    assert "notify-libuv: writing /dev/full: no space left on device" \
        in err, err
    assert "the producer failed" not in err, err
    m = re.search(r"^notify-libuv: stopped reading after (\d+) of the "
                  r"producer's 524288 bytes, so its writes failed "
                  r"\(EPIPE\)$", err, re.M)
    assert m, err
    assert re.search(r"^notify-libuv: %s bytes read, 524288 expected "
                     r"\(32 chunks of 16384 bytes\)$" % m.group(1), err,
                     re.M), err
    print("consumer-stops:", m.group(0))


def nonblocking():
    chunks, kib, iters = 24, 16, 3
    r, w = os.pipe()
    os.set_blocking(w, False)
    with tempfile.TemporaryFile() as errf:
        p = subprocess.Popen([*wrapper, demo, "--chunks", str(chunks),
                              "--chunk-kib", str(kib), "--slots", "3",
                              "--iters", str(iters)],
                             stdout=w, stderr=errf)
        os.close(w)
        got = bytearray()
        start = time.monotonic()
        while True:  # a slow reader: the pipe fills, writes come back short
            b = os.read(r, 4096)
            if not b:
                break
            got += b
            time.sleep(0.002)
            assert time.monotonic() - start < TIMEOUT, "hangs"
        os.close(r)
        rc = p.wait(timeout=TIMEOUT)
        errf.seek(0)
        err = errf.read().decode()
    assert rc == 0, (rc, err)
    n = chunks * kib * 1024 // 4
    assert len(got) == n * 4, (len(got), n * 4, err)
    want = array.array("f", (x + iters for x in producer_samples(n)))
    assert got == want.tobytes(), "output differs from the samples + iters"
    m = re.search(r"(\d+) short writes", err)
    assert m, err
    print(f"nonblocking: {len(got)} bytes, every sample right, "
          f"{m.group(1)} short writes")


def stdin_length():
    kib, iters = 4, 2
    per = kib * 1024 // 4
    samples = array.array("f", (float(i % 1000) for i in range(3 * per)))
    whole = samples.tobytes()
    short = whole[:2 * per * 4]
    opts = ["--stdin", "--chunk-kib", str(kib), "--iters", str(iters),
            "--slots", "2", "--output", "-"]

    def feed(data, *extra):
        p = subprocess.run([*wrapper, demo, *opts, *extra], input=data,
                           capture_output=True, timeout=TIMEOUT)
        return p.returncode, p.stdout, p.stderr.decode()

    # the length asked for: the whole stream through
    rc, out, err = feed(whole, "--chunks", "3")
    assert rc == 0, (rc, err)
    assert out == array.array("f", (x + iters for x in samples)).tobytes()
    # cut at a chunk boundary, short of --chunks: an error, saying so
    rc, out, err = feed(short, "--chunks", "3")
    assert rc == 1, (rc, err)
    assert re.search(r"^notify-libuv: 8192 bytes read, 12288 expected "
                     r"\(3 chunks of 4096 bytes\): the input ended early$",
                     err, re.M), err
    # longer than --chunks: an error
    rc, out, err = feed(whole, "--chunks", "2")
    assert rc == 1, (rc, err)
    assert "the input holds more than the 8192 bytes expected" in err, err
    # no --chunks: any length at a sample boundary is taken whole (--help
    # says so), here 2.5 chunks
    half = whole[:(2 * per + per // 2) * 4]
    rc, out, err = feed(half)
    assert rc == 0, (rc, err)
    assert len(out) == len(half), (len(out), len(half))
    # ... but not one that ends inside a sample
    rc, out, err = feed(half[:-1])
    assert rc == 1, (rc, err)
    assert "the input ends inside a sample" in err, err
    print("stdin-length: short and long streams refused with --chunks")


def setup_fails():
    shim = os.environ["NOTIFY_LIBUV_UV_FAULT"]
    for fault, what in (("uv_poll_init", "setting up the loop"),
                        ("uv_read_start", "starting the loop")):
        env = dict(os.environ, UV_FAULT=fault,
                   LD_PRELOAD=" ".join(filter(None, [
                       os.environ.get("LD_PRELOAD"), shim])),
                   # gcc's ASan wants its runtime first; the shim is not
                   # instrumented and needs no checking
                   ASAN_OPTIONS=":".join(filter(None, [
                       os.environ.get("ASAN_OPTIONS"),
                       "verify_asan_link_order=0"])))
        p = subprocess.run([*wrapper, demo, "--chunks", "8", "--chunk-kib",
                            "16", "--output", "/dev/null"], env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                           timeout=TIMEOUT)
        err = p.stderr.decode()
        assert p.returncode == 1, (fault, p.returncode, err)
        assert f"notify-libuv: {what}: not enough memory" in err, err
        assert "left open" not in err, err
        assert "closing the loop" not in err, err
        assert "the producer failed" not in err, err
        assert "stopped reading after 0 of the producer's" in err, err
        print(f"setup-fails: {fault} failing: said so, nothing left open")


scenarios = {"fail-chunk": fail_chunk, "consumer-stops": consumer_stops,
             "nonblocking": nonblocking, "stdin-length": stdin_length,
             "setup-fails": setup_fails}
for name in sys.argv[2:] or scenarios:
    scenarios[name]()
