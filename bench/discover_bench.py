"""Benchmark: `leviathan discover --dry-run --json` against ripgrep, whole processes, same run.

Generates a 3,000-file repository shaped like a scientific Python/C project (sizes, comment
density, module docstrings and licence blocks, function docstrings and block comments, a tag
comment in about one file in six, as in scipy, a tag word inside a string literal on one line
in a thousand, and tags in docstring prose and in block comments), then times, as medians of
interleaved runs:
- ripgrep (`rg -n --hidden -g '!.git' -e 'TODO|FIXME|HACK|XXX|BUG'`), the baseline;
- `python -c pass`, the interpreter's own start-up, for reference;
- discover cold (its caches removed before each run) and warm (nothing changed);
for two installations: a regular one (what `pip install leviathan-local` gives: a plain copy in
site-packages and the `leviathan` console script pip writes, which is what is run) and the
editable development install running this script (`python -m leviathan_local`), whose import
hook alone costs ~20 ms at every start-up. The target: warm (regular) at most 1.5x ripgrep; the
cold figure is reported with its ratio, without a target. It also checks that discover finds
exactly the lines ripgrep finds that are comments.

`--repo PATH` times the same commands in an existing work tree instead (git's own source, say:
its caches go to that repository's `.git/leviathan/`); there, where the comment forms are not
the generator's, it checks that every finding is on a line ripgrep found.

    pip install ripgrep==14.1.0   # newer versions build from source and fail offline
    python bench/discover_bench.py [--files 3000] [--runs 15] [--repo PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

TAGS = "TODO|FIXME|HACK|XXX|BUG"
LANGUAGES = {  # extension: (line comment, share of files)
    "py": ("#", 45), "c": ("//", 12), "h": ("//", 6), "cpp": ("//", 6), "pyx": ("#", 4), "js": ("//", 3),
    "sh": ("#", 2), "yaml": ("#", 2), "md": (None, 8), "rs": ("//", 2), "go": ("//", 2), "txt": (None, 8),
}


def generate(root: Path, files: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    kinds = [ext for ext, (_, weight) in LANGUAGES.items() for _ in range(weight)]
    for number in range(files):
        ext = rng.choice(kinds)
        marker = LANGUAGES[ext][0]
        tagged = rng.random() < 0.17
        lines = _opening(ext, number)
        for index in range(int(rng.lognormvariate(4.6, 0.8)) + 5):  # median ~100 lines
            roll = rng.random()
            if tagged and roll < 0.02:
                tag = rng.choice(TAGS.split("|"))
                lines.append(f"{marker} {tag}: handle case {number}-{index}" if marker
                             else f"<!-- {tag}: document case {number}-{index} -->")
            elif 0.02 <= roll < 0.021:
                lines.append(f'message = "the {rng.choice(["TODO", "FIXME"])} list is empty"')  # not a comment
            elif 0.021 <= roll < 0.05 and ext in ("py", "pyx"):  # a docstring: prose, sometimes a tag in it
                lines += [f'    """Compute value {index} from the inputs.', "",
                          f"    {'TODO: prose in a docstring' if rng.random() < 0.05 else 'Returns an array.'}",
                          '    """']
            elif 0.021 <= roll < 0.04 and marker == "//":  # a block comment, sometimes a tag in it
                lines += ["/*", f" * Computes value {index}.",
                          *([f" * FIXME: in a block comment {number}-{index}"] if tagged and rng.random() < 0.3 else []),
                          " */"]
            elif roll < 0.12 and marker:
                lines.append(f"{marker} explains the computation of value {index}")
            else:
                lines.append(f"    value_{index} = compute(alpha_{index % 7}, beta={number}, gamma='{index}')")
        path = root / f"pkg{number % 40}" / f"mod{number % 9}" / f"f{number}.{ext}"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(lines) + "\n")
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    subprocess.run(["git", "-C", str(root), "add", "-A"], check=True)
    subprocess.run(["git", "-C", str(root), "-c", "user.name=bench", "-c", "user.email=b@x", "commit", "-qm", "gen"],
                   check=True)


def _opening(ext: str, number: int) -> list[str]:
    """A module docstring or a licence block, as most real source files begin."""
    if ext in ("py", "pyx"):
        return [f'"""Module {number}: numerical routines.', "", "Long description of the module.", '"""']
    if LANGUAGES[ext][0] == "//":
        return ["/*", f" * Copyright the authors of module {number}.", " * Licensed under the BSD licence.", " */"]
    return []


def regular_install(into: Path) -> Path:
    """A venv with leviathan-local copied into site-packages (as a wheel install lays it out);
    its dependencies come from this environment through a plain path entry (no import hooks)."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(into)], check=True)
    python = into / "bin" / "python"
    site = Path(subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    package = Path(__file__).resolve().parent.parent / "leviathan_local"
    shutil.copytree(package, site / "leviathan_local", ignore=shutil.ignore_patterns("__pycache__"))
    (site / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([python, "-m", "compileall", "-q", str(site / "leviathan_local")], check=True)
    script = into / "bin" / "leviathan"  # the console script pip writes for `[project.scripts]`
    script.write_text(f"#!{python}\nimport sys\nfrom leviathan_local.cli.entry import main\n"
                      "if __name__ == '__main__':\n    sys.exit(main())\n")
    script.chmod(0o755)
    return python


def timed(command: list[str], cwd: Path, before=None) -> float:
    if before:
        before()
    started = time.perf_counter()
    subprocess.run(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - started


def ripgrep_matches(rg: str, root: Path) -> list[tuple[str, int, str]]:
    """(path, line number, text) of each line holding a tag as a whole word."""
    out = subprocess.run([rg, "-n", "--hidden", "-g", "!.git", "-w", "-e", TAGS, "."], cwd=root,
                         capture_output=True, text=True, errors="replace", check=True).stdout
    matches = []
    for line in filter(None, out.split("\n")):  # not splitlines(): a line may hold U+2028 and the like
        path, number, text = line.split(":", 2)
        matches.append((path.removeprefix("./"), int(number), text))
    return matches


def lines_found_by_ripgrep(rg: str, root: Path) -> set[tuple[str, int]]:
    return {(path, number) for path, number, _ in ripgrep_matches(rg, root)}


def comment_lines_by_ripgrep(rg: str, root: Path) -> set[tuple[str, int]]:
    """ripgrep's matches, restricted to lines that are comments (the generator's comment forms)."""
    found = set()
    for path, number, text in ripgrep_matches(rg, root):
        marker = LANGUAGES.get(path.rsplit(".", 1)[-1], (None,))[0]
        stripped = text.strip()
        # The generator writes lines starting with `*` inside block comments only.
        in_block = marker == "//" and stripped.startswith("* ")
        if (marker and stripped.startswith(marker)) or in_block or stripped.startswith("<!--") and path.endswith(".md"):
            found.add((path, number))
    return found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=3000)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--repo", type=Path, help="an existing work tree to scan instead of a generated one")
    options = parser.parse_args()
    rg = shutil.which("rg") or str(Path(sys.executable).parent / "rg")
    if not Path(rg).exists():
        sys.exit("ripgrep is needed: pip install ripgrep==14.1.0")
    with tempfile.TemporaryDirectory() as scratch:
        root = options.repo.resolve() if options.repo else Path(scratch) / "repo"
        if not options.repo:
            generate(root, options.files)
        plain = regular_install(Path(scratch) / "venv")
        state = Path(subprocess.run(["git", "-C", str(root), "rev-parse", "--path-format=absolute", "--git-common-dir"],
                                    capture_output=True, text=True, check=True).stdout.strip()) / "leviathan"

        def drop_caches() -> None:
            for name in ("discover-cache", "discover-report", "discover-policy"):
                (state / name).unlink(missing_ok=True)

        editable = [sys.executable, "-m", "leviathan_local", "discover", "--dry-run", "--json"]
        regular = [str(plain.parent / "leviathan"), "discover", "--dry-run", "--json"]
        commands = {
            "ripgrep": ([rg, "-n", "--hidden", "-g", "!.git", "-e", TAGS, "."], None),
            "python -c pass (regular)": ([str(plain), "-c", "pass"], None),
            "discover cold (regular)": (regular, drop_caches),
            "discover warm (regular)": (regular, None),
            "python -c pass (editable)": ([sys.executable, "-c", "pass"], None),
            "discover cold (editable)": (editable, drop_caches),
            "discover warm (editable)": (editable, None),
        }
        for command, before in commands.values():  # one untimed round: page cache, .pyc files
            timed(command, root, before)
        samples: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(options.runs):  # interleaved, so that machine noise hits all alike
            for name, (command, before) in commands.items():
                samples[name].append(timed(command, root, before))
        baseline = statistics.median(samples["ripgrep"])
        files = sum(1 for _ in root.rglob("*") if ".git" not in _.parts and _.is_file())
        print(f"{files} files, {options.runs} interleaved runs, medians")
        targets = {"discover warm (regular)": 1.5}
        for name, values in samples.items():
            median = statistics.median(values)
            target = targets.get(name)
            verdict = "" if target is None else f"   target <= {target}x: {'ok' if median / baseline <= target else 'MISSED'}"
            print(f"  {name:28} {median * 1000:7.1f} ms  {median / baseline:5.2f}x ripgrep{verdict}")
        drop_caches()
        report = json.loads(subprocess.run(regular, cwd=root, capture_output=True, text=True, check=True).stdout)
        ours = {(f["path"], f["line"]) for f in report["findings"]}
        if options.repo:
            theirs = lines_found_by_ripgrep(rg, root)
            print(f"  findings: discover {len(ours)}, on {len(theirs)} lines ripgrep found: "
                  f"{'all among them' if ours <= theirs else f'{len(ours - theirs)} NOT among them'}")
        else:
            theirs = comment_lines_by_ripgrep(rg, root)
            print(f"  findings: discover {len(ours)}, ripgrep on comment lines {len(theirs)}: "
                  f"{'identical' if ours == theirs else f'DIFFER ({len(ours - theirs)} extra, {len(theirs - ours)} missing)'}")
        print(f"  warm run read {json.loads(subprocess.run(regular, cwd=root, capture_output=True, text=True).stdout)['scan']['files_read']} files")


if __name__ == "__main__":
    os.environ.pop("GIT_DIR", None)
    main()
