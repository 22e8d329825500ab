"""Faults at every call site, once: each request the pass makes failing one time, in each way a request can
fail (500, 503, 429 + Retry-After, an answer held past the client's timeout, a trickling body, a dropped
connection, 409; 410 on a continue token). What every pass must do is in `faultcases.check`; the same
matrix with every failure for good is test_faults_for_good.py (a module of its own, so two workers share it).

The call sites are not listed by hand: `faultmatrix.record_sites` names every request a healthy pass makes
over the reference worlds, and the first test pins them to `faultcases.CALL_SITES`, so a new request in the
job fails here until it is listed, and is then in the matrix.
"""

from __future__ import annotations

import pytest

from tests.integration.faultcases import CALL_SITES, CATEGORY, baselines, cases, category, check
from tests.integration.faultmatrix import record_sites


@pytest.fixture(scope="module")
def healthy(tmp_path_factory):
    return baselines(tmp_path_factory)


def test_the_call_sites_are_the_checked_in_ones(tmp_path):
    """A request the job makes that is not in CALL_SITES (or one that is gone) fails here first."""
    assert record_sites(tmp_path) == CALL_SITES
    assert {category(site) for _, site in CALL_SITES} == {kind for _, kind in CATEGORY}


@pytest.mark.parametrize(("scenario", "site", "fault", "mode"), cases(("once",)))
def test_a_fault_once_at_a_call_site(tmp_path, healthy, scenario, site, fault, mode):
    check(tmp_path, healthy[scenario], scenario, site, fault, mode)
