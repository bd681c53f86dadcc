"""A progress bar for the command-line tools: tqdm on a terminal, a quiet counter otherwise."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from tqdm import tqdm

T = TypeVar("T")


class Progress:
    def __init__(self, bar: tqdm) -> None:
        self._bar = bar

    def wrap(self, items: Iterable[T]) -> Iterator[T]:
        for item in items:
            yield item
            self._bar.update(1)

    def note(self, **fields: object) -> None:
        self._bar.set_postfix(fields, refresh=False)


@contextmanager
def progress(total: int, unit: str, *, disable: bool = False) -> Iterator[Progress]:
    with tqdm(total=total, unit=f" {unit}", unit_scale=True, disable=disable, mininterval=0.5) as bar:
        yield Progress(bar)
