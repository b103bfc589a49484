"""Commit probes as first-class requests: keyed by their commit, stored like any other, kept out of the matrix."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.environments.interface import (
    BuildFailure,
    Environment,
    EnvironmentProvider,
    EnvironmentRequest,
    InstallStage,
    SourceCheckout,
)
from harness.environments.uv import _probe_project
from harness.model.case import Case, Parameters, RecordedEnvironment
from harness.model.outcome import Classification, Outcome, RunObservation
from harness.model.pins import Pin
from harness.model.probe_record import ProbeRecord, ProbeRequest, SourceTree, record_from_json, record_to_json
from harness.model.signature import Signature
from harness.probing.prober import Prober
from harness.probing.record_store import RecordStore
from harness.reports.summary import summarize
from harness.runners.interface import CaseRunner, RunResult
from harness.sources import PackageSources

EINOPS = Pin.of("einops", "0.8.0")
SHA_A, SHA_B = "a" * 40, "b" * 40


def request(source: SourceTree | None = None) -> ProbeRequest:
    return ProbeRequest("reshape", "c1", (("n", 3),), (EINOPS,), "3.11", sources_digest="abc", source=source)


def test_the_key_covers_the_commit() -> None:
    at_a, at_b = request(SourceTree("fakepkg", SHA_A)), request(SourceTree("fakepkg", SHA_B))
    assert at_a.key == request(SourceTree("fakepkg", SHA_A)).key
    assert len({request().key, at_a.key, at_b.key, request(SourceTree("otherpkg", SHA_A)).key}) == 4


def test_requests_without_a_source_keep_the_keys_records_were_stored_under() -> None:
    # Computed by the harness before source probes existed: changing it would orphan every stored record.
    assert request().key == "4189486d78a51e655d48"


def test_a_source_probe_record_round_trips_and_old_records_read_as_release_probes() -> None:
    record = ProbeRecord(request(SourceTree("fakepkg", SHA_A)), Outcome.REPRODUCED, "ValueError: BUG")
    data = record_to_json(record)
    assert data["source"] == {"package": "fakepkg", "commit": SHA_A}
    assert record_from_json(json.loads(json.dumps(data))) == record
    old = record_to_json(ProbeRecord(request(), Outcome.PASSED, "ran"))
    del old["source"]
    assert record_from_json(old).request.source is None
    assert record_from_json(old).key == request().key


def environment_request(tree: SourceCheckout | None) -> EnvironmentRequest:
    return EnvironmentRequest((EINOPS,), "3.11", PackageSources(), source_tree=tree)


def test_the_lock_digest_covers_tree_and_commit_and_is_unchanged_without_one() -> None:
    assert environment_request(None).digest == "74f9a3cbe6c42c5f9ec7"
    digests = {
        environment_request(None).digest,
        environment_request(SourceCheckout("fakepkg", Path("/tmp/w1/source"), SHA_A)).digest,
        environment_request(SourceCheckout("fakepkg", Path("/tmp/w1/source"), SHA_B)).digest,
        environment_request(SourceCheckout("fakepkg", Path("/tmp/w2/source"), SHA_A)).digest,
    }
    assert len(digests) == 4


def test_the_probe_project_installs_the_package_from_the_tree(tmp_path: Path) -> None:
    project = _probe_project(environment_request(SourceCheckout("fakepkg", tmp_path, SHA_A)))
    assert json.dumps(["einops==0.8.0", f"fakepkg @ {tmp_path.resolve().as_uri()}"]) in project
    assert "fakepkg @" not in _probe_project(environment_request(None))


CASE = Case(
    id="reshape",
    title="reshape",
    directory=Path("/cases/reshape"),
    packages=("fakepkg", "einops"),  # type: ignore[arg-type]
    parameters=(("n", 3),),
    signature=Signature("ValueError"),
    recorded=RecordedEnvironment("3.11", (Pin.of("fakepkg", "0.3.0"), EINOPS)),
    timeout_seconds=10,
    content_hash="c1",
)


def test_the_matrix_leaves_commit_probes_out() -> None:
    release = ProbeRequest("reshape", "c1", (("n", 3),), (Pin.of("fakepkg", "0.3.0"), EINOPS), "3.11")
    records = [
        ProbeRecord(release, Outcome.REPRODUCED, "ValueError: BUG", started_at="2026-01-01T00:00:00"),
        ProbeRecord(
            ProbeRequest("reshape", "c1", (("n", 3),), (EINOPS,), "3.11", source=SourceTree("fakepkg", SHA_A)),
            Outcome.PASSED,
            "ran",
            started_at="2026-01-02T00:00:00",
        ),
    ]
    summary = summarize(CASE, records)
    assert [cell.record_key for cell in summary.cells.values()] == [records[0].key]


class Provider(EnvironmentProvider):
    def __init__(self) -> None:
        self.asked: list[EnvironmentRequest] = []

    def prepare(self, request: EnvironmentRequest, *, fresh: bool = False) -> Environment | BuildFailure:
        self.asked.append(request)
        return BuildFailure(InstallStage.INSTALL, Classification(Outcome.INSTALL_FAILED, "no backend"), "", 0.0, 0.0)

    def lock(self, request: EnvironmentRequest, *, fresh: bool = False) -> list[tuple[str, str, str]] | BuildFailure:
        raise AssertionError("not locked")


class Runner(CaseRunner):
    def run(self, environment: Environment, case: Case, parameters: Parameters, *, run_index: int = 0) -> RunResult:
        return RunResult(RunObservation(0, False, True, None), 0.0)


def test_the_prober_hands_the_checkout_to_the_provider_and_stores_the_record(tmp_path: Path) -> None:
    provider = Provider()
    store = RecordStore(tmp_path)
    prober = Prober(provider, Runner(), store, python="3.11", sources=PackageSources())
    source_request = prober.request_for(CASE, (EINOPS,), source=SourceTree("fakepkg", SHA_A))
    with pytest.raises(ValueError, match="needs its checkout"):
        prober.probe(CASE, source_request)

    first = prober.probe(CASE, source_request, source_tree=tmp_path / "source")
    assert [asked.source_tree for asked in provider.asked] == [SourceCheckout("fakepkg", tmp_path / "source", SHA_A)]
    assert not first.reused and store.get(CASE.id, source_request.key) == first.record
    # A stored record answers without a checkout and without building.
    again = prober.probe(CASE, source_request)
    assert again.reused and again.record == first.record and len(provider.asked) == 1
