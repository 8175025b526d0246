"""Hypothesis settings shared by the fuzz tests (issue 24): small and repeatable in the suite, large in the soak.

The suite runs a fixed, derandomised sample (the same cases every run, so a failure reproduces);
``nox -s soak`` sets ``ZOO_FUZZ_EXAMPLES`` to run many more, freshly random ones. No example
database is written, so the checkout stays clean.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

#: Examples per property: 60 in the suite, ZOO_FUZZ_EXAMPLES in the soak.
EXAMPLES = int(os.environ.get("ZOO_FUZZ_EXAMPLES", "60"))

FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize="ZOO_FUZZ_EXAMPLES" not in os.environ,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large])
