"""What a schema refusal says a key accepts: a list key is refused as needing a list, and a key
that may be null says so (the words come from the schema's field types)."""

from __future__ import annotations

import pytest
from omegaconf import OmegaConf
from omegaconf.errors import ValidationError

from bench.config_schema import StudySchema, validation_problem


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("optimizers", "random_search", "study.optimizers='random_search' is invalid: use a list"),
        ("tasks", "bbob/f01/d02/i01", "study.tasks='bbob/f01/d02/i01' is invalid: use a list"),
        ("time_budget", "soon", "study.time_budget='soon' is invalid: use a number or null"),
        ("n_workers", "two", "study.n_workers='two' is invalid: use an integer >= 1"),
    ],
)
def test_a_refused_study_value_names_what_the_key_accepts(key: str, value: str, expected: str) -> None:
    study = OmegaConf.structured(StudySchema)
    with pytest.raises(ValidationError) as info:
        setattr(study, key, value)
    assert validation_problem(info.value) == expected
