"""Counts the fault tests report: printed where they happen, and gathered into one section at
the end of the run (`make test` captures test output, so that section is where CI shows
them)."""

FAULT_COUNTS: list[str] = []


def report(line: str) -> None:
    line = line.strip()
    print(f"\n{line}")
    FAULT_COUNTS.append(line)
