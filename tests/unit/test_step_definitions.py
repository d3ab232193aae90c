"""A carrier step is defined whole: an action without its undo is refused when the class is written."""

import pytest

from resolvers.provisioning.steps import STEPS, Create, Step


def test_a_step_without_its_settling_is_refused_and_not_registered():
    with pytest.raises(TypeError, match="does not define settle"):

        class HalfStep(Step):
            name = "test.half_step"

            async def act(self, clients, step, **inputs):
                return None

    assert "test.half_step" not in STEPS


def test_a_create_without_a_way_to_find_what_it_made_is_refused():
    with pytest.raises(TypeError, match="find"):

        class Unfindable(Create):
            name = "test.unfindable"
            made_key = "id"

            def base_name(self, step):
                return "x"

            async def act(self, clients, step, **inputs):
                return "id"

            async def recorded(self, step, made_id):
                return False

            async def delete(self, clients, step, made_id):
                return None


def test_every_registered_step_is_registered_under_its_own_name():
    assert STEPS and all(step.name == name for name, step in STEPS.items())
