"""Faults at every call site, for good: every attempt of the call site's requests fails, in each way a
request can fail. The pass must end with the exit code that failure means, bounded, with nothing doubled
and nothing unrecorded (`faultcases.check`; the same matrix once is test_faults.py)."""

from __future__ import annotations

import pytest

from tests.integration.faultcases import baselines, cases, check


@pytest.fixture(scope="module")
def healthy(tmp_path_factory):
    return baselines(tmp_path_factory)


@pytest.mark.parametrize(("scenario", "site", "fault", "mode"), cases(("always",)))
def test_a_fault_for_good_at_a_call_site(tmp_path, healthy, scenario, site, fault, mode):
    check(tmp_path, healthy[scenario], scenario, site, fault, mode)
