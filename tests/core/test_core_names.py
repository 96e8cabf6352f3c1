"""Names: NFC, refused invisible characters, and one name per case/width-folded key."""

from __future__ import annotations

import unicodedata

import pytest

from algomancy_core import ConflictError, InvalidInputError, SessionManager
from algomancy_core.names import check_name, name_key
from algomancy_data import DataSource

from .conftest import make_config


@pytest.mark.parametrize(
    ("name", "message"),
    [
        (
            "week\u202e1",
            r"format character U\+202E \(RIGHT-TO-LEFT OVERRIDE\), found at character 5",
        ),
        ("we\u200bek", r"format character U\+200B \(ZERO WIDTH SPACE\), found at character 3"),
        ("\ufeffweek", r"U\+FEFF .* at character 1"),
        ("a\x00b", r"control character U\+0000 .* at character 2"),
        ("a\x85b", r"control character U\+0085"),
        ("a\u2028b", r"line separator U\+2028"),
    ],
)
def test_invisible_characters_are_refused_by_code_point_and_position(
    name: str, message: str
) -> None:
    with pytest.raises(InvalidInputError, match=message):
        check_name("tag", name)


@pytest.mark.parametrize("name", ["week1 ", " week1", "week1\u00a0", "\u3000week1"])
def test_whitespace_at_either_end_is_refused_not_trimmed(name: str) -> None:
    with pytest.raises(InvalidInputError, match=r"must not (begin|end) with whitespace"):
        check_name("display_name", name)
    assert check_name("display_name", "week 1") == "week 1"


def test_names_are_stored_in_nfc() -> None:
    decomposed = unicodedata.normalize("NFD", "café")
    assert len(decomposed) == 5
    assert check_name("tag", decomposed) == "café"


def test_the_key_folds_case_width_and_form() -> None:
    same = ["Week1", "week1", "WEEK1", "\uff37\uff45\uff45\uff4b\uff11"]
    assert len({name_key(n) for n in same}) == 1
    assert name_key("café") == name_key(unicodedata.normalize("NFD", "Café"))
    assert name_key("Straße") == name_key("STRASSE")
    assert name_key("week1") != name_key("week2")


def test_look_alike_names_collide_through_the_managers() -> None:
    with SessionManager(make_config()) as sessions:
        sessions.create_session("Week1")
        with pytest.raises(ConflictError, match="session named 'Week1' already exists"):
            sessions.create_session("\uff37\uff45\uff45\uff4b\uff11")
        # NFD in, NFC stored: the same session, found by either spelling.
        created = sessions.create_session(unicodedata.normalize("NFD", "Café"))
        assert created.display_name == "Café"
        found = sessions.get_session(unicodedata.normalize("NFD", "Café"))
        assert found.session_id == created.session_id
        nfd_key = unicodedata.normalize("NFD", "Données")
        found.add_dataset(nfd_key, DataSource("d"))
        assert found.list_datasets()[-1] == "Données"
        assert found.get_dataset(nfd_key).name == "d"
        found.delete_dataset(nfd_key)
        main = sessions.get_session("main")
        main.create_scenario("Run A", "Master data", "Instant")
        with pytest.raises(ConflictError, match="scenario tagged 'Run A' already exists"):
            main.create_scenario("run a", "Master data", "Instant")
        with pytest.raises(ConflictError, match="dataset 'Master data' already exists"):
            main.derive_dataset("Master data", "MASTER DATA")
