"""What the ETL child sends back for an exception (`etlchild.etl_task`), in process:
the exception itself when it pickles, its name and text when pickling it fails the
way pickling fails, and a fault of the pickling itself is not hidden."""

from __future__ import annotations

import threading
from typing import Any, NoReturn

import pytest

from algomancy_api import etlchild
from algomancy_data.limits import ReadLimits


def failing_with(exc: BaseException) -> Any:
    def etl(*args: object) -> NoReturn:
        raise exc

    return etl


def task() -> tuple[str, Any]:
    return etlchild.etl_task("no.such:config", {}, "orders", [], ReadLimits())


class BrokenReduce(Exception):
    def __reduce__(self) -> NoReturn:
        raise ZeroDivisionError("a bug in this exception's pickling")


def test_a_picklable_exception_is_sent_back_as_it_is(monkeypatch: pytest.MonkeyPatch) -> None:
    raised = ValueError("a file of an unknown type")
    monkeypatch.setattr(etlchild, "_etl", failing_with(raised))
    assert task() == ("raised", raised)


@pytest.mark.parametrize("kind", ["lock", "local class"])
def test_an_exception_that_does_not_pickle_is_sent_back_by_name_and_text(
    monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    if kind == "lock":
        raised: Exception = ValueError("held", threading.Lock())  # TypeError when pickled
    else:

        class LocalError(Exception):
            """Pickled by reference to a class no module has."""

        raised = LocalError("gone")  # AttributeError (PicklingError on 3.14) when pickled
    monkeypatch.setattr(etlchild, "_etl", failing_with(raised))
    status, sent = task()
    assert status == "raised"
    assert type(sent) is RuntimeError
    assert str(sent) == f"{type(raised).__name__}: {raised}"


def test_a_fault_in_pickling_itself_is_not_hidden(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(etlchild, "_etl", failing_with(BrokenReduce("bad")))
    with pytest.raises(ZeroDivisionError, match="pickling"):
        task()
