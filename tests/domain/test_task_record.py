"""The one task record: it names every Task field once, and the JSON shapes come from it."""

from __future__ import annotations

import dataclasses

from taskdash.domain.models import UNCLAIMED, Task
from taskdash.domain.task_record import (
    API_TASK_FIELDS,
    COMPAT_TASK_KEYS,
    TASK_FIELDS,
    FieldKind,
    task_json,
)


def test_the_record_names_every_task_field_once() -> None:
    attrs = [field.attr for field in TASK_FIELDS]
    assert sorted(attrs) == sorted(f.name for f in dataclasses.fields(Task))
    assert len(set(attrs)) == len(attrs)
    assert len({field.stored for field in TASK_FIELDS}) == len(TASK_FIELDS)
    json_keys = [field.json for field in API_TASK_FIELDS]
    assert len(set(json_keys)) == len(json_keys)


def test_the_seed_keys_and_bson_names_are_the_seeds() -> None:
    seed_stored = " ".join(field.stored for field in TASK_FIELDS if field.seed)
    assert seed_stored == (
        "_id project_id instance_id task_id type url status time user checker group reserved"
    )
    assert next(f for f in TASK_FIELDS if f.json == "CreateTime").kind is FieldKind.INT64


def test_compat_json_is_the_seed_shape() -> None:
    task = Task("id1", "p1", "i1", "t1", "satEdit", url="http://s/1", time=5, user="ann")
    expected = {
        "ID": "id1",
        "ProjectID": "p1",
        "InstanceID": "i1",
        "TaskID": "t1",
        "TaskType": "satEdit",
        "URL": "http://s/1",
        "Status": UNCLAIMED,
        "CreateTime": 5,
        "User": "ann",
        "Checker": "",
        "Group": "",
        "Reserved": "",
    }
    assert task.to_compat() == expected
    assert list(task.to_compat()) == list(expected) == list(COMPAT_TASK_KEYS)  # in the seed's order


def test_api_json_adds_what_the_pages_show_and_no_bookkeeping() -> None:
    task = Task("id1", "p1", "i1", "t1", "satEdit", edit_info="e", claimed_at=1.5, rev=7)
    values = task_json(task)
    assert list(values) == [*COMPAT_TASK_KEYS, "EditInfo", "ClaimedAt", "UpdatedAt"]
    assert (values["EditInfo"], values["ClaimedAt"], values["UpdatedAt"]) == ("e", 1.5, 0.0)
