"""`make bench`: every benchmark, one after the other, printing figures and ratios."""

from __future__ import annotations

from . import sandbox_lists


def main() -> None:
    for module in (sandbox_lists,):
        for line in module.report():
            print(line, flush=True)


if __name__ == "__main__":
    main()
