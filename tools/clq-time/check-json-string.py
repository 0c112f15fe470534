#!/usr/bin/env python3
# The tools' one JSON string writer (json_write_string() in tools/json-text.c), read
# back by a real parser: every output line must be a JSON string that
# Python's json.loads accepts, valid UTF-8 must come back unchanged, and
# each maximal ill-formed subsequence of bytes must come back as one
# U+FFFD, as Unicode's recommended practice (and Python's
# bytes.decode("utf-8", "replace")) has it. The output itself is valid
# UTF-8 with no raw control character, and `<` and `&` stay as they are.
# usage: check-json-string.py TEST-JSON-STRING
import json, random, re, subprocess, sys

program = sys.argv[1]
R = "\ufffd"

# (input bytes, the string the document must hold): the choices, spelled
# out; each is also checked against Python's own decoder below.
CASES = [
    (b"", ""),
    (b'say "hi"', 'say "hi"'),
    (b"C:\\pocl\\", "C:\\pocl\\"),
    (b'\\"', '\\"'),
    (b"<svg> & <title>a&amp;b</title>", "<svg> & <title>a&amp;b</title>"),
    (b"tab\there\nnew line\r\x0b\x0c\x08", "tab\there\nnew line\r\x0b\x0c\x08"),
    (bytes(range(1, 0x20)) + b"\x7f", "".join(map(chr, range(1, 0x20))) + "\x7f"),
    ("é € 😀 \ufffd \u2028 \U0010ffff".encode(), "é € 😀 \ufffd \u2028 \U0010ffff"),
    # lone continuation bytes: one U+FFFD each
    (b"\x80", R), (b"a\x80\xbfb", f"a{R}{R}b"), (b"\xbf\xbf\xbf", R * 3),
    # truncated sequences: one U+FFFD for the lead and what followed it
    (b"\xc3", R), (b"\xe2\x82", R), (b"\xe2\x82a", R + "a"),
    (b"\xf0\x9f\x98", R), (b"\xf0\x9f\x98\xe2\x82\xac", R + "€"),
    (b"\xe2\x82\xe2\x82\xac", R + "€"),
    # overlongs, surrogates, beyond U+10FFFF, bytes never used: each byte
    (b"\xc0\xaf", R * 2), (b"\xc1\xbf", R * 2), (b"\xe0\x80\xaf", R * 3),
    (b"\xe0\x9f\xbf", R * 3), (b"\xf0\x80\x80\xaf", R * 4),
    (b"\xf0\x8f\xbf\xbf", R * 4), (b"\xed\xa0\x80", R * 3),
    (b"\xed\xbf\xbf", R * 3), (b"\xf4\x90\x80\x80", R * 4),
    (b"\xf5\x80\x80\x80", R * 4), (b"\xfe\xff", R * 2),
    # a Latin-1 device name, as a driver might report it
    (b"Caf\xe9 GPU (\xa9 vendor)", f"Caf{R} GPU ({R} vendor)"),
    (b'"\xff\\', f'"{R}\\'),
]


def run(records):
    data = b"".join(r + b"\0" for r in records)
    out = subprocess.run([program], input=data, capture_output=True,
                         check=True).stdout
    lines = out.split(b"\n")
    assert lines[-1] == b"" and len(lines) == len(records) + 1, \
        (len(lines), len(records))
    return lines[:-1]


def check(record, line, expect):
    text = line.decode("utf-8")  # the output is valid UTF-8 itself
    assert not re.search("[\x00-\x1f\x7f]", text), (record, text)
    assert text.startswith('"') and text.endswith('"'), (record, text)
    got = json.loads(text)  # strict: a raw control character fails
    assert got == expect, (record, text, got, expect)


for record, expect in CASES:
    assert record.decode("utf-8", "replace") == expect, (record, expect)
for (record, expect), line in zip(CASES, run([c[0] for c in CASES])):
    check(record, line, expect)
    # no HTML or XML escaping (&lt;, \u003c): that is the SVG writer's job
    assert line.count(b"<") == record.count(b"<"), line
    assert line.count(b"&") == record.count(b"&"), line

# Random byte strings, biased towards the bytes that make UTF-8 hard,
# against Python's decoder; then random valid text, which must round-trip.
rng = random.Random(20240613)
interesting = list(b'"\\<&\x01\x1f\x7f\x80\xbf\xc0\xc1\xc2\xdf\xe0\xed\xef'
                   b'\xf0\xf4\xf5\xff') + [0x9f, 0xa0, 0x8f, 0x90, 0x41]
records = []
for _ in range(3000):
    n = rng.randrange(0, 16)
    records.append(bytes(rng.choice(interesting) if rng.random() < 0.7
                         else rng.randrange(1, 256) for _ in range(n)))
for record, line in zip(records, run(records)):
    check(record, line, record.decode("utf-8", "replace"))


def random_char():
    while True:
        c = rng.choice((rng.randrange(1, 0x80), rng.randrange(0x80, 0x800),
                        rng.randrange(0x800, 0x10000),
                        rng.randrange(0x10000, 0x110000)))
        if not 0xd800 <= c <= 0xdfff:
            return chr(c)


texts = ["".join(random_char() for _ in range(rng.randrange(0, 12)))
         for _ in range(1000)]
for text, line in zip(texts, run([t.encode() for t in texts])):
    check(text, line, text)

print(f"json_write_string: {len(CASES)} cases, {len(records)} random byte "
      f"strings, {len(texts)} random texts read back by json.loads")
