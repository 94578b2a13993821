"""Write snappy test vectors made by cramjam (the snappy C++ library's block format) into a directory.

For each case NAME: NAME.raw (the input) and NAME.snappy (cramjam.snappy.compress_raw of it), plus
framed.snappy (the framed/stream format, which remote write must refuse). Run with .venv-remote-write's
python: snappy_oracle.py DIR
"""

import os
import random
import sys

import cramjam


def cases():
    rng = random.Random(20251126)
    yield "empty", b""
    yield "one-byte", b"x"
    yield "text", b"the quick brown fox jumps over the lazy dog. " * 50
    yield "run", b"\x00" * 100_000
    yield "random", bytes(rng.getrandbits(8) for _ in range(70_000))
    yield "long-literal", bytes(rng.getrandbits(8) for _ in range(300))
    # Repeats at distances that force 1-, 2- and 4-byte copy offsets.
    block = bytes(rng.getrandbits(8) for _ in range(40_000))
    yield "far-copies", block + b"middle" + block + bytes(rng.getrandbits(8) for _ in range(70_000)) + block
    yield "labels", b"".join(b'__name__\x00http_requests_total\x00job\x00api\x00instance\x00host-%d:9100\n' % i for i in range(3000))
    yield "mixed", b"".join(bytes(rng.getrandbits(8) for _ in range(rng.randrange(1, 90))) * rng.randrange(1, 6) for _ in range(2000))


def main() -> int:
    directory = sys.argv[1]
    for name, data in cases():
        with open(os.path.join(directory, name + ".raw"), "wb") as raw:
            raw.write(data)
        with open(os.path.join(directory, name + ".snappy"), "wb") as compressed:
            compressed.write(bytes(cramjam.snappy.compress_raw(data)))
    with open(os.path.join(directory, "framed.snappy"), "wb") as framed:
        framed.write(bytes(cramjam.snappy.compress(b"framed format " * 20)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
