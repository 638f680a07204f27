from __future__ import annotations

import pytest

from bot.slack.identity import owner_tag, person


def test_person_id_is_workspace_and_user() -> None:
    assert person(enterprise_id=None, team_id="T1", user_id="U1").id == "T1:U1"


def test_an_enterprise_grid_person_is_known_across_its_workspaces() -> None:
    one = person(enterprise_id="E1", team_id="T1", user_id="U1")
    other = person(enterprise_id="E1", team_id="T2", user_id="U1")
    assert one.id == other.id == "E1:U1"


def test_the_first_name_is_not_part_of_the_identity_and_not_in_repr() -> None:
    sam = person(enterprise_id=None, team_id="T1", user_id="U1", first_name="Sam")
    assert sam.first_name == "Sam" and "Sam" not in repr(sam) and "U1" not in repr(sam)


def test_owner_tags_differ_per_person_and_do_not_show_the_id() -> None:
    one = person(enterprise_id=None, team_id="T1", user_id="U1")
    two = person(enterprise_id=None, team_id="T1", user_id="U2")
    assert owner_tag(one) != owner_tag(two)
    assert "U1" not in owner_tag(one) and len(owner_tag(one)) == 16


def test_a_payload_without_a_workspace_is_refused() -> None:
    with pytest.raises(ValueError):
        person(enterprise_id=None, team_id=None, user_id="U1")
