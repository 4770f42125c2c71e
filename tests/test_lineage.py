"""An institution's lineage: everyone linked to it through predecessors and successors,
so a converter academy's page still shows the failing school it replaced."""

import datetime

import pytest

from tests.factories import make_institution, make_link

pytestmark = pytest.mark.django_db


def test_an_institution_without_links_is_its_own_whole_lineage():
    school = make_institution()
    make_link(make_institution(), make_institution())  # unrelated links stay out
    assert school.lineage() == [school]
    assert list(school.predecessors()) == []
    assert list(school.successors()) == []


def test_an_academy_conversion_links_the_school_and_the_academy_both_ways():
    school = make_institution(name="Eltham Foundation School")
    academy = make_institution(name="Harris Academy Greenwich")
    make_link(school, academy, kind="academy_conversion", linked_on=datetime.date(2014, 9, 1))

    assert school.lineage() == [school, academy]
    assert academy.lineage() == [school, academy]
    assert [link.predecessor for link in academy.predecessors()] == [school]
    assert [link.successor for link in school.successors()] == [academy]
    assert list(academy.successors()) == []


def test_a_chain_of_three_is_walked_from_any_link():
    first, second, third = make_institution(), make_institution(), make_institution()
    make_link(first, second, kind="rename")
    make_link(second, third, kind="academy_conversion")

    for member in (first, second, third):
        assert member.lineage() == [first, second, third]
    assert [link.predecessor for link in third.predecessors()] == [second]
    assert [link.successor for link in first.successors()] == [second]


def test_a_merger_brings_both_predecessors_and_their_other_relatives():
    east, west = make_institution(), make_institution()
    merged = make_institution()
    make_link(east, merged, kind="merger")
    make_link(west, merged, kind="merger")
    earlier_west = make_institution()
    make_link(earlier_west, west, kind="rename")

    assert {i.pk for i in east.lineage()} == {east.pk, west.pk, merged.pk, earlier_west.pk}
    assert {link.predecessor for link in merged.predecessors()} == {east, west}
    assert [link.successor for link in east.successors()] == [merged]


def test_lineage_walks_one_query_per_generation(django_assert_num_queries):
    first, second, third = make_institution(), make_institution(), make_institution()
    make_link(first, second)
    make_link(second, third)
    # Three generations to discover plus an empty one to stop, then the fetch.
    with django_assert_num_queries(4):
        first.lineage()
