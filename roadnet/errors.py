"""Errors that name the file, the element and the problem."""

from __future__ import annotations


class MapError(ValueError):
    """A network that cannot be read or used.

    Parameters
    ----------
    source
        The file (or other source) the problem is in.
    problems
        One line per problem, each naming the offending element.
    """

    def __init__(self, source: str, problems: list[str] | str) -> None:
        self.source = source
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        shown = self.problems[:20]
        more = len(self.problems) - len(shown)
        text = "; ".join(shown) + (f"; ... and {more} more" if more > 0 else "")
        super().__init__(f"{source}: {text}")
