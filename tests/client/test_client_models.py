"""The client's models and the server's wire models (`algomancy_api.models`): where
the client reads an answer as the server declares it, the model is the server's (with
unknown keys kept); the others read every field the server declares, but for the
listed ones, which they keep as extra keys."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from algomancy_api import models as wire
from algomancy_api.client import models as client

#: Client model -> the server's model it is.
SHARED = {
    client.Me: wire.Me,
    client.TableInfo: wire.TableInfo,
    client.ScenarioStatus: wire.ScenarioStatusOut,
    client.ValidationMessage: wire.ValidationMessageOut,
    client.EtlResult: wire.EtlOut,
}

#: Client model -> (the server's model, server fields the client keeps as extra keys).
#: The client's own on purpose: defaults where the server requires a field (older
#: servers, the reference algomancy-api), parameter values as plain JSON.
OWN = {
    client.Health: (wire.Health, {"title"}),
    client.Session: (wire.SessionItem, {"owner"}),
    client.SessionList: (wire.SessionList, set()),
    client.ParameterDescriptor: (wire.ParameterDescriptor, set()),
    client.KpiDescriptor: (wire.KpiDescriptor, {"quantity", "kind"}),
    client.KpiValue: (wire.KpiValue, {"display", "kind", "passed", "details"}),
    client.Scenario: (wire.ScenarioOut, set()),
    client.DatasetVersion: (wire.DatasetVersionOut, set()),
}


@pytest.mark.parametrize("model", list(SHARED), ids=lambda m: m.__name__)
def test_a_shared_model_is_the_servers_and_keeps_unknown_keys(model: type[BaseModel]) -> None:
    server = SHARED[model]
    assert issubclass(model, server)
    assert model.model_fields.keys() == server.model_fields.keys()
    assert model.model_config.get("extra") == "allow"
    assert server.model_config.get("extra") != "allow"  # the OpenAPI document is unchanged


def test_a_shared_model_reads_into_the_clients_nested_models() -> None:
    result = client.EtlResult.model_validate(
        {
            "dataset_name": "d",
            "success": False,
            "keys": [],
            "messages": [{"severity": "error", "message": "bad", "table": "t", "row": 2}],
            "newer": 1,
        }
    )
    assert str(result.messages[0]) == "error [t row 2]: bad"
    assert result.model_extra == {"newer": 1}


@pytest.mark.parametrize("model", list(OWN), ids=lambda m: m.__name__)
def test_a_client_model_of_its_own_reads_what_the_server_declares(
    model: type[BaseModel],
) -> None:
    server, kept_as_extra = OWN[model]
    assert model.model_fields.keys() >= server.model_fields.keys() - kept_as_extra
    assert not kept_as_extra & model.model_fields.keys()
    assert model.model_config.get("extra") == "allow"
