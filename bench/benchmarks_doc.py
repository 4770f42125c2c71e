"""docs/BENCHMARKS.md, shared by the benchmark scripts: each rewrites only the part
between its own markers, so notes around them survive a re-run."""

from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[1] / "docs" / "BENCHMARKS.md"


def write_section(script: str, heading: str, report: str) -> None:
    """Replace `script`'s marked section with `report`, or add it under `heading`."""
    start, end = f"<!-- {script}: start -->", f"<!-- {script}: end -->"
    text = BENCHMARKS.read_text() if BENCHMARKS.exists() else "# Benchmarks\n"
    block = f"{start}\n{report}\n{end}"
    if start in text and end in text:
        before, rest = text.split(start, 1)
        text = before + block + rest.split(end, 1)[1]
    else:
        text = text.rstrip("\n") + f"\n\n## {heading}\n\n" + block + "\n"
    BENCHMARKS.parent.mkdir(exist_ok=True)
    BENCHMARKS.write_text(text)
