"""A run from the app's Run tab whose attempts run as Kubernetes Jobs, against the FAKE API
server of tests/kube_fake (no cluster runs here): the pod's log, streamed into the attempt's
log, is what the tab shows, as it shows a local attempt's output."""

from __future__ import annotations

from pathlib import Path

import pytest
from remote_fixtures import daemon, kube_remote, own_task  # noqa: F401 - daemon: a fixture
from textual.widgets import RichLog, Static
from tui.conftest import drive, rendered, settle

from leviathan_local.tui.app import LeviathanApp
from leviathan_local.tui.widgets.run_view import RunView

pytest.importorskip("kubernetes")
from kube_fake import FakeCluster  # noqa: E402 - only with the client installed


def test_fake_api_server_the_run_tab_shows_the_jobs_pod_log(tmp_path: Path, daemon: tuple[Path, str],
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeCluster(grace_seconds=10) as cluster:
        monkeypatch.setenv("KUBECONFIG", str(cluster.write_kubeconfig(tmp_path / "kubeconfig")))
        remote = kube_remote(tmp_path, daemon, own_task("one"))
        app = LeviathanApp(remote.controller, watch_files=False)

        async def script(pilot) -> None:
            await settle(app, pilot, lambda: app.board is not None)
            await pilot.press("3", "s")
            await settle(app, pilot, lambda: not app.query_one(RunView).running)
            await settle(app, pilot, lambda: "Halted" in rendered(app.query_one("#run-state", Static)))
            output = "\n".join(line.text for line in app.query_one(RichLog).lines)
            job = cluster.jobs_created[0]["metadata"]["name"]
            assert f"[leviathan] Job {job}, pod " in output  # the controller's stream of the pod's log
            assert "Ran 2 tests" in output  # the test command's output, from the worker in the "pod"
            assert "── one: " in output and "succeeded" in output

        drive(app, script)
