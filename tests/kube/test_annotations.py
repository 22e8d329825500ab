"""Every annotation the job reads, parsed strictly: a typed value, or an `Invalid` quoting the raw value."""

from __future__ import annotations

import json

import pytest

from selfheal.kube.annotations import (
    ANN_CRONJOB_SUSPENDED,
    ANN_DESIRED_REPLICAS,
    ANN_IGNORE,
    ANN_LAST_APPLIED,
    ANN_TRAFFIC_SPLIT,
    DESIRED_REPLICAS_CAP,
    Flag,
    Invalid,
    TrafficSplit,
    desired_replicas,
    flag,
    ignored,
    parse_traffic_split,
    revision,
    traffic_split,
)
from tests.builders import make_deployment, make_hpa


def desired(value: str, *, hpa_max: int | None = None) -> int | Invalid | None:
    dep = make_deployment("web", replicas=2, annotations={ANN_DESIRED_REPLICAS: value})
    hpa = make_hpa(dep, min_replicas=1, max_replicas=hpa_max) if hpa_max is not None else None
    return desired_replicas(dep, hpa)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("1_000", "not a decimal integer"),  # int() would read 1000
        ("\uff15", "not a decimal integer"),  # int() would read 5 (a full-width digit)
        ("٣", "not a decimal integer"),  # an Arabic-Indic three
        ("99999999999999999999", "above the cap of 1000 (no HPA)"),
        ("-1", "not a decimal integer"),
        ("+3", "not a decimal integer"),
        ("3.0", "not a decimal integer"),
        ("", "empty"),
        ("   ", "empty"),
        ("0x10", "not a decimal integer"),
        ("1e3", "not a decimal integer"),
        ("three", "not a decimal integer"),
        ("\t3", "not a decimal integer"),  # only ASCII spaces are stripped
        ("3\n", "not a decimal integer"),
        ("1001", "above the cap of 1000 (no HPA)"),
        ("9" * 5000, "above the cap of 1000 (no HPA)"),  # never converted: int() refuses 4,300+ digits
    ],
)
def test_a_bad_desired_replicas_value_is_invalid_and_quoted(value, reason):
    result = desired(value)

    assert isinstance(result, Invalid)
    assert result.reason == reason
    assert str(result).startswith(f"{ANN_DESIRED_REPLICAS}={json.dumps(value, ensure_ascii=False)[:40]}")


def test_the_invalid_text_quotes_the_value_as_written():
    assert str(desired("1_000")) == 'selfheal.dev/desired-replicas="1_000": not a decimal integer'
    assert str(desired("\uff15")) == 'selfheal.dev/desired-replicas="\uff15": not a decimal integer'


def test_a_very_long_value_is_quoted_shortened():
    text = str(desired("x" * 10_000))

    assert len(text) < 200 and text.endswith('…": not a decimal integer')


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("3", 3),
        (" 3 ", 3),
        ("0", 0),
        ("007", 7),
        (str(DESIRED_REPLICAS_CAP), DESIRED_REPLICAS_CAP),
    ],
)
def test_a_good_desired_replicas_value_is_an_int(value, expected):
    assert desired(value) == expected


def test_with_an_hpa_its_max_replicas_is_the_bound():
    assert desired("8", hpa_max=8) == 8
    result = desired("9", hpa_max=8)
    assert isinstance(result, Invalid) and result.reason == "above HPA web maxReplicas 8"
    assert desired("1000", hpa_max=2000) == 1000 and desired("1500", hpa_max=2000) == 1500


@pytest.mark.parametrize(
    ("last_applied", "expected"),
    [
        ({"spec": {"replicas": 4}}, 4),
        ({"spec": {}}, None),  # not in the manifest: no opinion
        ({"spec": {"replicas": True}}, None),
        ({"spec": {"replicas": 4.0}}, None),
        ({"spec": {"replicas": -1}}, None),
        ("not an object", None),
    ],
)
def test_last_applied_replicas_are_read_only_when_they_are_a_count(last_applied, expected):
    dep = make_deployment("web", last_applied=last_applied)

    assert desired_replicas(dep) == expected


def test_last_applied_replicas_above_the_cap_are_invalid_not_sent():
    dep = make_deployment("web", last_applied={"spec": {"replicas": 99999999999999999999}})

    result = desired_replicas(dep)

    assert isinstance(result, Invalid) and result.annotation == ANN_LAST_APPLIED
    assert result.reason == "spec.replicas 99999999999999999999 is above the cap of 1000 (no HPA)"


def test_broken_last_applied_json_is_no_opinion():
    dep = make_deployment("web", annotations={ANN_LAST_APPLIED: "[" * 100_000})

    assert desired_replicas(dep) is None


# --- traffic split ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("canary=10", "not JSON"),
        ("", "not JSON"),
        ('{"canary":10,', "not JSON"),
        ("[" * 100_000, "not JSON"),  # deeper than the parser's recursion limit
        ('{"canary":1e999,"stable":0}', '"canary" is not an integer (1e999)'),
        ('{"canary":NaN,"stable":100}', '"canary" is not an integer (NaN)'),
        ('{"canary":Infinity,"stable":0}', '"canary" is not an integer (Infinity)'),
        ('{"canary":20,"stable":100}', "canary + stable is 120, not 100"),
        ('{"canary":-10,"stable":110}', '"canary" is -10, outside 0..100'),
        ('{"canary":10,"stable":-90}', '"stable" is -90, outside 0..100'),
        ('{"canary":"ten","stable":90}', '"canary" is not an integer ("ten")'),
        ('{"canary":"10","stable":90}', '"canary" is not an integer ("10")'),
        ('{"canary":10.0,"stable":90.0}', '"canary" is not an integer (10.0)'),
        ('{"canary":10.5,"stable":89.5}', '"canary" is not an integer (10.5)'),
        ('{"canary":true,"stable":false}', '"canary" is not an integer (true)'),
        ('{"canary":null,"stable":100}', '"canary" is not an integer (null)'),
        ('{"canary":[10],"stable":90}', '"canary" is not an integer ([10])'),
        ('{"canary":10}', 'missing "stable"'),
        ('{"stable":100}', 'missing "canary"'),
        ("{}", 'missing "canary"'),
        ('{"canary":10,"stable":90,"mirror":5}', 'unexpected key "mirror"'),
        ('{"canary":10,"stable":90,"canary":90}', 'duplicate key "canary"'),
        ('{"canary":99999999999999999999,"stable":0}', '"canary" is 99999999999999999999, outside 0..100'),
        ('{"canary":' + "9" * 5000 + ',"stable":0}', '"canary" is ' + "9" * 5000 + ", outside 0..100"),
        ("[10, 90]", "not a JSON object (a JSON array)"),
        ("null", "not a JSON object (a JSON null)"),
        ("10", "not a JSON object (a JSON number)"),
        ("1e999", "not a JSON object (a JSON number)"),
        ('"{\\"canary\\":10,\\"stable\\":90}"', "not a JSON object (a JSON string)"),  # JSON in a string
        ("true", "not a JSON object (a JSON boolean)"),
    ],
)
def test_a_bad_traffic_split_is_invalid_never_an_exception(raw, reason):
    result = parse_traffic_split(raw)

    assert isinstance(result, Invalid)
    assert result.reason == reason
    assert result.annotation == ANN_TRAFFIC_SPLIT


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ('{"canary":10,"stable":90}', TrafficSplit(10, 90)),
        (' { "stable" : 100 , "canary" : 0 } ', TrafficSplit(0, 100)),
        ('{"canary":100,"stable":0}', TrafficSplit(100, 0)),
        ('{"canary":-0,"stable":100}', TrafficSplit(0, 100)),
    ],
)
def test_a_good_traffic_split(raw, expected):
    assert parse_traffic_split(raw) == expected


def test_the_split_of_a_deployment_without_the_annotation_is_none():
    assert traffic_split(make_deployment("web")) is None
    dep = make_deployment("web", annotations={ANN_TRAFFIC_SPLIT: '{"canary":1e999,"stable":0}'})
    assert str(traffic_split(dep)) == (
        'rollout.argoproj.io/traffic-split="{\\"canary\\":1e999,\\"stable\\":0}": "canary" is not an integer (1e999)'
    )


# --- switches ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "on", "valid"),
    [
        (None, False, True),
        ("true", True, True),
        ("True", True, True),
        (" TRUE ", True, True),
        ("\ttrue\n", True, True),
        ("false", False, True),
        ("False", False, True),
        (" false ", False, True),
        ("yes", True, False),
        ("1", True, False),
        ("enabled", True, False),
        ("", True, False),
        ("0", True, False),
        ("no", True, False),
        ("tru", True, False),
    ],
)
@pytest.mark.parametrize("name", [ANN_CRONJOB_SUSPENDED, ANN_IGNORE])
def test_a_switch_is_true_or_false_and_anything_else_is_on_and_reported(name, value, on, valid):
    result = flag({} if value is None else {name: value}, name)

    assert result.on is on and bool(result) is on
    assert (result.invalid is None) is valid
    if not valid:
        assert result.warning == f'{name}={json.dumps(value)}: not "true" or "false"; treated as "true"'
    else:
        assert result.warning == ""


def test_ignored_reads_the_ignore_switch():
    assert ignored({ANN_IGNORE: "yes"}) == Flag(True, Invalid(ANN_IGNORE, "yes", 'not "true" or "false"'))
    assert not ignored({})


# --- revisions --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("4", 4),
        ("+4", 4),
        ("-1", -1),
        ("0012", 12),
        (str(2**63 - 1), 2**63 - 1),
        (str(2**63), None),
        ("1_000", None),
        ("\uff15", None),
        (" 4", None),
        ("4.0", None),
        ("", None),
        ("+", None),
        ("x", None),
    ],
)
def test_a_revision_is_read_as_kubectl_parses_it(value, expected):
    assert revision({"deployment.kubernetes.io/revision": value}) == expected
