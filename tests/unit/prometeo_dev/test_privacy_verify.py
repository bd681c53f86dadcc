"""`prometeo_dev.privacy verify` over fake service exports: what counts as residue, what does not."""

from __future__ import annotations

import httpx

from prometeo_dev import privacy

CK = "ck_verifyunit0001"


def _client(items: dict[str, object] | None, status: int = 200) -> httpx.Client:
    def answer(request: httpx.Request) -> httpx.Response:
        assert request.url.path == f"/internal/v1/customers/{CK}/export"
        return httpx.Response(status, json={"service": "s", "customer_key": CK, "items": items or {}})

    return httpx.Client(base_url="http://svc", transport=httpx.MockTransport(answer))


def test_held_items_are_residue_tombstones_are_not_and_a_silent_service_makes_it_incomplete() -> None:
    report = privacy.verify(
        CK,
        {
            "clean": _client({}),
            "tombstoned": _client({"scope": {"erased_at": "1764590000.0"}}),
            "leaky": _client({"offers": {"of_1": {"status": "delivered"}}}),
            "down": _client(None, status=503),
        },
    )
    assert [(f.where, f.key) for f in report.residue] == [("leaky", "offers")]
    assert report.unreachable == ["down (HTTPStatusError)"] and not report.clean
    assert "RESIDUE FOUND" in report.render()

    quiet = privacy.verify(CK, {"clean": _client({}), "down": _client(None, status=503)})
    assert not quiet.residue and "INCOMPLETE" in quiet.render()
    assert privacy.verify(CK, {"clean": _client({})}).clean
