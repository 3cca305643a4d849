"""Count the instructions citeproc-js takes, patched (as the app loads it) and not, with
valgrind's callgrind: counts that the machine's load does not change, unlike CPU seconds.

    apt-get install valgrind
    .venv/bin/python bench/citeproc_instructions.py                 # APA, 20 and 300 entries
    .venv/bin/python bench/citeproc_instructions.py --style chicago --sizes 20,300

Each count is a whole process (Python, V8, the engine's build and one bibliography); the
difference between two sizes, divided by the entries between them, is the cost of an entry, and
what is left of the smaller run is the start-up. Slow: V8 under valgrind runs ~50 times slower
(about a minute for 20 APA entries). It also checks that both versions print the same entries.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def run_one(patched: bool, style_name: str, size: int, out: Path) -> None:
    """In the process valgrind watches: build the style's engine, format `size` entries."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.conf import settings
    from py_mini_racer import MiniRacer

    from apps.library import citations
    from bench.citations import items

    source = settings.CITEPROC_JS.read_text("utf-8")
    style = citations.STYLE_NAMES[style_name]
    js = MiniRacer()
    js.eval("var module = {exports: {}}; var exports = module.exports;")
    if patched:
        js.eval(citations._PRELUDE)
        source = citations.patched_source(source)
    js.eval(source)
    js.eval(citations._GLUE)
    js.call("citemapSetup", citations.locale_path().read_text("utf-8"), 10**9)
    js.call("citemapAddStyle", style.value, citations.style_path(style).read_text("utf-8"))
    js.call("citemapBegin", 1)
    js.call("citemapAdd", json.dumps(items(size)))
    count = js.call("citemapRun", style.value, "text")
    out.write_text(js.call("citemapTake", 0, count))
    sys.stdout.flush()
    os._exit(0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--style", default="apa", choices=["apa", "chicago", "mla"])
    parser.add_argument("--sizes", default="20,300")
    parser.add_argument("--one", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        patched, size, out = args.one
        run_one(patched == "patched", args.style, int(size), Path(out))

    small, large = (int(size) for size in args.sizes.split(","))
    folder = Path(tempfile.mkdtemp(prefix="citemap-callgrind-"))
    counts, outputs = {}, {}
    for variant in ("unpatched", "patched"):
        for size in (small, large):
            out = folder / f"{variant}-{size}.json"
            done = subprocess.run(
                ["valgrind", "--tool=callgrind", "--smc-check=all-non-file",
                 f"--callgrind-out-file={folder}/callgrind.{variant}.{size}",
                 sys.executable, __file__, "--style", args.style, "--one", variant, str(size),
                 str(out)],
                capture_output=True, text=True, check=True,
            )  # fmt: skip
            counts[variant, size] = int(re.search(r"Collected : (\d+)", done.stderr).group(1))
            outputs[variant, size] = out.read_text("utf-8")
            print(f"{args.style} {variant:9} {size:5} entries: {counts[variant, size]:,}")
    per_entry, startup = {}, {}
    for variant in ("unpatched", "patched"):
        per_entry[variant] = (counts[variant, large] - counts[variant, small]) / (large - small)
        startup[variant] = counts[variant, small] - small * per_entry[variant]
    for label, values in (("an entry", per_entry), ("start-up", startup)):
        before, after = values["unpatched"], values["patched"]
        print(f"{label}: {before / 1e6:,.1f} M -> {after / 1e6:,.1f} M instructions "
              f"({100 * (after / before - 1):+.0f} %)")  # fmt: skip
    same = all(outputs["unpatched", size] == outputs["patched", size] for size in (small, large))
    print("same entries from both versions" if same else "THE VERSIONS PRINT DIFFERENT ENTRIES")


if __name__ == "__main__":
    main()
