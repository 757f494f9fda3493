"""Benchmark: the terminal app's first frame, live reload, and key handling during a run.

Each figure is printed beside a baseline measured in the same run: a bare Textual app whose
only widget is a DataTable holding the same number of rows. Medians, because the machine
is shared and noisy.

    python bench/tui_bench.py                 # 1,000 and 10,000 tasks
    python bench/tui_bench.py --tasks 1000 --runs 3

- first frame: whole process, from spawning `python` to the first frame that shows the
  ranked backlog (the app runs headless at 120x40);
- reload: an edit written to backlog.yaml by another program until the table shows it;
- keys: a key press handled (cursor moved) while an attempt streams output into the run view.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from backlog_bench import generate_backlog, make_repo  # noqa: E402

BARE_APP = textwrap.dedent("""
    import sys, time
    started = float(sys.argv[1])
    from textual.app import App
    from textual.widgets import DataTable

    class Bare(App):
        def compose(self):
            yield DataTable()

        def on_mount(self):
            table = self.query_one(DataTable)
            table.add_columns("#", "id", "title", "status", "score", "i/e", "age", "flags", "tries")
            for n in range(int(sys.argv[2])):
                table.add_row(str(n), f"task-{n:05d}", f"Improve module {n % 97} handling of case {n}",
                              "ready", "1.00", "3/2", "1d", "~", "")
            self.call_after_refresh(self.first_frame)

        def first_frame(self):
            print(time.time() - started)
            self.exit()

    Bare().run(headless=True, size=(120, 40))
""")

LEVIATHAN_APP = textwrap.dedent("""
    import sys, time
    started = float(sys.argv[1])
    # As `leviathan` with no arguments starts the app (cli.py): the prefetch child first.
    from pathlib import Path
    from leviathan_local.cli.app_start import prepare_app
    from leviathan_local.git.locate import locate_quickly
    if sys.argv[3] == "no-prefetch":
        paths, prefetch = locate_quickly(Path(sys.argv[2])), None
    else:
        paths, prefetch = prepare_app(Path(sys.argv[2]))
    from leviathan_local.tui.app import LeviathanApp
    from leviathan_local.tui.widgets.backlog_table import BacklogTable

    class Timed(LeviathanApp):
        def on_board_prefetched(self, message) -> None:
            if message.board is not None:
                self.call_after_refresh(self.first_frame)

        def on_board_loaded(self, message) -> None:
            self.call_after_refresh(self.first_frame)

        def first_frame(self):
            assert self.query_one(BacklogTable).row_count > 0
            print(time.time() - started)
            self.exit()

    Timed(paths, watch_files=False, prefetch=prefetch).run(headless=True, size=(120, 40))
""")


def first_frame(code: str, *arguments: str) -> float:
    started = time.time()
    done = subprocess.run([sys.executable, "-c", code, repr(started), *arguments], capture_output=True, text=True,
                          check=True)
    return float(done.stdout.strip().splitlines()[-1])


def reload_times(root: Path, runs: int) -> list[float]:
    from leviathan_local.git.repo import find_repo
    from leviathan_local.tui.app import LeviathanApp
    from leviathan_local.tui.widgets.backlog_table import BacklogTable

    backlog = root / ".leviathan" / "backlog.yaml"
    times: list[float] = []

    async def main() -> None:
        app = LeviathanApp(find_repo(root), watch_files=True)
        async with app.run_test(size=(120, 40)) as pilot:
            while app.board is None:
                await asyncio.sleep(0.01)
            await asyncio.sleep(0.3)  # the watcher is up
            for run in range(runs):
                title = f"Edited elsewhere {run}"
                text = backlog.read_text()
                started = time.perf_counter()
                backlog.write_text(text.replace("Improve module 0 handling of case 0\"", title + '"', 1)
                                   if run == 0 else text.replace(f"Edited elsewhere {run - 1}", title, 1))
                table = app.query_one(BacklogTable)
                shown = table.shown_board
                # Cheap to poll (the poll must not slow down the reload it measures).
                while table.shown_board is shown:
                    await asyncio.sleep(0.005)
                assert table.shows_title(title), "the table shows a board without the edit"
                times.append(time.perf_counter() - started)
                await pilot.pause()

    asyncio.run(main())
    return times


def key_times_while_streaming(root: Path, presses: int) -> dict[str, list[float]]:
    """Keys while the run view follows an agent printing nonstop: the cursor in the backlog
    table (Run tab hidden), and switching to the Run tab and back (its log on screen)."""
    from textual.widgets import TabbedContent

    from leviathan_local.git.repo import find_repo
    from leviathan_local.tui.app import LeviathanApp
    from leviathan_local.tui.widgets.backlog_table import BacklogTable
    from leviathan_local.tui.widgets.run_view import RunView

    times: dict[str, list[float]] = {"cursor": [], "tab switch": []}

    async def handled(app: LeviathanApp, key: str, done) -> float:
        started = time.perf_counter()
        # Posted as the terminal driver posts it (pilot.press also waits for every widget to
        # go idle, which a streaming log never does).
        app.simulate_key(key)
        while not done():
            if time.perf_counter() - started > 10:
                raise SystemExit(f"the key {key!r} was not handled within 10 s")
            await asyncio.sleep(0.001)
        return time.perf_counter() - started

    async def main() -> None:
        app = LeviathanApp(find_repo(root), watch_files=False)
        async with app.run_test(size=(120, 40)):
            while app.board is None:
                await asyncio.sleep(0.01)
            await app.action_show_tab("run")
            app.query_one(RunView).start()
            await app.action_show_tab("backlog")
            log_dir = root / ".git" / "leviathan" / "attempts"
            deadline = time.monotonic() + 60
            while not any(log_dir.glob("*.log")) or max(p.stat().st_size for p in log_dir.glob("*.log")) < 100_000:
                if time.monotonic() > deadline:
                    raise SystemExit("the agent never started streaming: see " + str(log_dir))
                await asyncio.sleep(0.05)
            table, tabs = app.query_one(BacklogTable), app.query_one(TabbedContent)
            for press in range(presses):
                row = table.cursor_row + (1 if press % 2 == 0 else -1)
                times["cursor"].append(await handled(app, "down" if press % 2 == 0 else "up",
                                                     lambda row=row: table.cursor_row == row))
                await asyncio.sleep(0.05)
            for press in range(presses):
                tab = "run" if press % 2 == 0 else "backlog"
                times["tab switch"].append(await handled(app, "3" if tab == "run" else "1",
                                                         lambda tab=tab: tabs.active == f"{tab}-tab"))
                await asyncio.sleep(0.2)  # the log view takes in a refresh's worth of output
            app.query_one(RunView).request_stop()
            await app.workers.wait_for_complete()

    asyncio.run(main())
    return times


CHATTY_AGENT = """\
import itertools, time
for n in itertools.count():  # until the benchmark stops the run
    print(n, "x" * 60, flush=n % 50 == 0)
    if n % 50 == 0:
        time.sleep(0.001)
"""


def streaming_repo(root: Path) -> Path:
    """One ready task whose agent prints lines nonstop for a while (a chatty coding agent)."""
    backlog = generate_backlog(200).replace("status: ready", "status: new").replace("    ready: true\n", "")
    backlog += ("  - id: chatty\n    title: Print a lot\n    status: ready\n    allowed_paths: [src/]\n"
                "    acceptance_criteria: [it prints]\n    steps: {red: [python chatty.py]}\n")
    make_repo(root, backlog)
    (root / "chatty.py").write_text(CHATTY_AGENT)
    (root / ".leviathan" / "policy.yaml").write_text("agent: {kind: recipe}\nlimits: {attempt_timeout_seconds: 300}\n")
    subprocess.run(["git", "-C", str(root), "add", "-A"], check=True)
    subprocess.run(["git", "-C", str(root), "-c", "user.name=b", "-c", "user.email=b@b", "commit", "-qm", "backlog"],
                   check=True)
    return root


def median(values: list[float]) -> float:
    return statistics.median(values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", type=int, nargs="*", default=[1000, 10000])
    parser.add_argument("--runs", type=int, default=5)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        for count in options.tasks:
            root = make_repo(Path(scratch) / f"repo-{count}", generate_backlog(count))
            first_frame(LEVIATHAN_APP, str(root), "prefetch")  # warm: the backlog cache and the OS file cache
            bare = [first_frame(BARE_APP, str(count)) for _ in range(options.runs)]
            ours = [first_frame(LEVIATHAN_APP, str(root), "prefetch") for _ in range(options.runs)]
            alone = [first_frame(LEVIATHAN_APP, str(root), "no-prefetch") for _ in range(options.runs)]
            print(f"{count:>6} tasks  first frame: leviathan {median(ours):.3f} s, bare DataTable app "
                  f"{median(bare):.3f} s, ratio {median(ours) / median(bare):.2f}x  (target: "
                  f"{'0.8' if count >= 10000 else '0.6'} s; without the prefetch child {median(alone):.3f} s)")
            reload = reload_times(root, options.runs)
            print(f"{count:>6} tasks  edit on disk shown: median {median(reload):.3f} s, max {max(reload):.3f} s "
                  f"(target 0.5 s)")
        for what, times in key_times_while_streaming(streaming_repo(Path(scratch) / "streaming"), 20).items():
            print(f"key press while an attempt streams output ({what}): median {median(times) * 1000:.1f} ms, "
                  f"max {max(times) * 1000:.1f} ms (target 100 ms)")


if __name__ == "__main__":
    main()
