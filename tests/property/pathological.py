"""Text built to make a badly written pattern backtrack: one short unit repeated to 50,000
characters. Shared by the property tests and `make bench` (bench/hostile.py)."""

LENGTH = 50_000

#: Units that repeat into the worst inputs known for patterns of each kind.
UNITS = [
    "a.",
    "a@",
    "@a.",
    "a(at)",
    "(dot)a",
    "<http://",
    "<@U",
    "www.",
    "U1",
    "1 ",
    "07 ",
    "+44 ",
    "1.2.",
    "9",
    "a-",
    "＠",
    "a ",
    "kill ",
    "end it ",
    "I want to ",
    "don't ",
    "'",
    "\n",
]
