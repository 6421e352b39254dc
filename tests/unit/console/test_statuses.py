"""Every core error has an HTTP status in the console's API, as it has a gRPC code."""

from __future__ import annotations

import inspect

from broker import errors
from broker.console.api import STATUSES, http_status
from broker.service.status import CODES


def test_every_broker_error_maps_to_an_http_status() -> None:
    kinds = {
        cls
        for _, cls in inspect.getmembers(errors, inspect.isclass)
        if issubclass(cls, errors.BrokerError) and cls is not errors.BrokerError
    }
    assert set(STATUSES) == kinds == set(CODES)
    for cls in kinds:
        assert 400 <= http_status(cls("x")) < 600
        assert http_status(cls("x")) != 500


def test_a_subclass_takes_its_parents_status_and_others_are_500() -> None:
    class Stale(errors.NotFound):
        pass

    assert http_status(Stale("gone")) == 404
    assert http_status(errors.BrokerError("?")) == 500
