"""The README's commands, checked against the repository, so the README cannot drift.

Its "Set up" block must install everything ``.ci/run`` installs, its "Test" block must be the
command ``.ci/run`` runs, every ``python main.py ...`` and ``python -m ...`` it shows must parse
with the real argument parsers, and every repository path it names must exist. Nothing here
trains or opens a window: commands are parsed, or asked for ``--help``.
"""
from __future__ import annotations

import importlib
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
CI_RUN = (ROOT / ".ci" / "run").read_text(encoding="utf-8")


# --- reading the README and .ci/run -----------------------------------------------------------


def sections(markdown: str) -> dict[str, str]:
    """The text under each "## " heading, keyed by the heading."""
    parts = re.split(r"^## +(.+?)\s*$", markdown, flags=re.MULTILINE)
    return {title: body for title, body in zip(parts[1::2], parts[2::2])}


def sh_blocks(text: str) -> list[str]:
    """The contents of the fenced ```sh code blocks in ``text``."""
    return re.findall(r"^```(?:sh|bash|shell|console)\s*\n(.*?)^```", text, flags=re.MULTILINE | re.DOTALL)


def command_lines(text: str) -> list[str]:
    """The commands of a shell script or block: comments, blank lines and trailing comments dropped."""
    lines = []
    for line in text.splitlines():
        words = shlex.split(line, comments=True)
        if words:
            lines.append(" ".join(shlex.quote(w) for w in words))
    return lines


def section_commands(title: str) -> list[str]:
    body = sections(README).get(title)
    assert body is not None, f"README.md has no '## {title}' section"
    blocks = sh_blocks(body)
    assert blocks, f"README.md's '## {title}' section has no ```sh code block"
    return [line for block in blocks for line in command_lines(block)]


def split_chain(line: str) -> list[list[str]]:
    """``a && b ; c`` -> [[a...], [b...], [c...]], each as words."""
    lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    commands, current = [], []
    for word in lexer:
        if word in ("&&", "||", ";", "|"):
            commands.append(current)
            current = []
        else:
            current.append(word)
    commands.append(current)
    return [c for c in commands if c]


def readme_setup() -> tuple[list[str], list[str]]:
    """(the apt packages of the README's apt-get line, the requirements files of its pip line)."""
    apt, requirements = [], []
    for line in section_commands("Set up"):
        for words in split_chain(line):
            if words and words[0] == "sudo":
                words = words[1:]
            if words[:2] == ["apt-get", "install"]:
                apt += [w for w in words[2:] if not w.startswith("-")]
            if "pip" in words and "install" in words:
                requirements += pip_requirements(words)
    return apt, requirements


def pip_requirements(words: list[str]) -> list[str]:
    files = []
    for i, w in enumerate(words):
        if w in ("-r", "--requirement") and i + 1 < len(words):
            files.append(words[i + 1])
        elif w.startswith("--requirement="):
            files.append(w.split("=", 1)[1])
    return files


def shell_values(script: str, name: str, seen: frozenset = frozenset()) -> list[str]:
    """Every word a shell variable can hold in ``script``: its assignments (``NAME="..."``,
    ``NAME="$NAME more"``) and, for a loop variable, the words it loops over; ``$OTHER``
    inside them is resolved the same way."""
    if name in seen:
        return []
    seen = seen | {name}
    words: list[str] = []
    for value in re.findall(rf'(?:^|[\s;]){name}=("[^"]*"|\'[^\']*\'|\S*)', script, flags=re.MULTILINE):
        words += resolve_words(script, shlex.split(value)[0].split() if value.strip("\"'") else [], seen)
    for value in re.findall(rf"\bfor\s+{name}\s+in\s+([^;\n]*)", script):
        words += resolve_words(script, value.split(), seen)
    return words


def resolve_words(script: str, words: list[str], seen: frozenset = frozenset()) -> list[str]:
    out = []
    for w in words:
        m = re.fullmatch(r"\$\{?(\w+)\}?", w)
        out += shell_values(script, m.group(1), seen) if m else [w]
    return out


def ci_apt_packages() -> set[str]:
    """The packages ``.ci/run`` can ask apt-get to install, its variables resolved."""
    packages: set[str] = set()
    for line in command_lines(CI_RUN):
        if "apt-get" not in line or " install" not in line:
            continue
        words = shlex.split(line)
        args = words[words.index("install") + 1:]
        packages |= {w for w in resolve_words(CI_RUN, [a for a in args if not a.startswith("-")])}
    return packages


def ci_requirements() -> list[str]:
    files = []
    for line in command_lines(CI_RUN):
        for words in split_chain(line):
            if "pip" in words and "install" in words:
                files += pip_requirements(words)
    return files


def readme_python_commands() -> list[list[str]]:
    """Every ``python ...`` command the README shows, as arguments after ``python``: the lines
    of its "Run" block and every inline `python ...` (also after ``env -u VAR``)."""
    lines = section_commands("Run")
    lines += re.findall(r"`((?:env\s[^`]*?)?python3?\s[^`]+)`", README)
    commands = []
    for line in lines:
        words = shlex.split(line, comments=True)
        starts = [i for i, w in enumerate(words) if w in ("python", "python3")]
        if starts and words[starts[0] + 1:] not in commands:
            commands.append(words[starts[0] + 1:])
    return commands


def run_python(args: list[str]) -> subprocess.CompletedProcess:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", OPENBLAS_NUM_THREADS="1")
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300)


# --- (a) setting up gives everything CI installs ----------------------------------------------


def test_readme_apt_line_installs_every_package_ci_installs():
    """A new user who follows "Set up" gets every system package ``.ci/run`` installs."""
    apt, _ = readme_setup()
    assert apt, "README.md's 'Set up' block has no 'apt-get install' line"
    ci = ci_apt_packages()
    assert ci, ".ci/run installs no apt packages that this test can find"
    missing = sorted(ci - set(apt))
    assert not missing, f".ci/run installs {missing}, which README.md's apt-get line leaves out"


def test_readme_and_ci_install_the_same_requirements_files():
    """The pip line of "Set up" and ``.ci/run`` install the same requirements files."""
    _, readme_files = readme_setup()
    assert readme_files, "README.md's 'Set up' block has no 'pip install -r ...' line"
    assert sorted(ci_requirements()) == sorted(readme_files), (
        f"README.md installs {readme_files}, .ci/run installs {ci_requirements()}")


# --- (b) the test command is CI's -------------------------------------------------------------


def test_readme_test_command_is_what_ci_runs_last():
    """The "Test" block is one command, and it is the last command of ``.ci/run``."""
    commands = section_commands("Test")
    assert len(commands) == 1, f"README.md's 'Test' block should hold one command, got {commands}"
    last = command_lines(CI_RUN)[-1]
    assert commands[0] == last, f"README.md tests with {commands[0]!r}, .ci/run runs {last!r} last"


# --- (c) the requirements files exist ---------------------------------------------------------


def test_readme_requirements_files_exist():
    _, files = readme_setup()
    missing = [f for f in files if not (ROOT / f).is_file()]
    assert files and not missing, f"README.md installs requirements files that do not exist: {missing}"


# --- (d) the commands parse -------------------------------------------------------------------


def help_commands() -> list[list[str]]:
    """One ``--help`` call per distinct command: ``main.py`` (the window), ``main.py train`` ...,
    and each ``-m module``."""
    calls = []
    for args in readme_python_commands():
        if args[:1] == ["-m"]:
            call = args[:2] + ["--help"]
        elif args[:1] == ["main.py"]:
            sub = args[1:2] if len(args) > 1 and not args[1].startswith("-") else []
            call = ["main.py", *sub, "--help"]
        else:
            call = args[:1] + ["--help"]
        if call not in calls:
            calls.append(call)
    return calls


def test_readme_shows_the_commands_it_documents():
    """The extraction below finds the commands: a reworded README still has to show them."""
    calls = {" ".join(c) for c in help_commands()}
    for expected in ("main.py --help", "main.py train --help", "main.py evaluate --help",
                     "main.py predict --help", "-m core.bench --help", "-m core.fidelity --help",
                     "-m app.bench --help"):
        assert expected in calls, f"README.md no longer shows a command for {expected!r}; found {sorted(calls)}"


@pytest.mark.parametrize("call", help_commands(), ids=lambda c: " ".join(c))
def test_readme_command_help_exits_0(call):
    """``python <command> --help`` succeeds for every command the README shows."""
    result = run_python(call)
    assert result.returncode == 0, f"python {' '.join(call)} exited {result.returncode}:\n{result.stderr}"
    assert "usage:" in result.stdout


def test_main_help_mentions_the_windows_screenshot_flag():
    result = run_python(["main.py", "--help"])
    assert result.returncode == 0
    assert "--screenshot" in result.stdout, "'python main.py --help' does not mention --screenshot"


def parse_as_run(args: list[str], monkeypatch) -> None:
    """Parse ``python <args>`` with the real parsers, without running anything: main.py's own
    dispatch picks the window's parser or the command line's; ``-m module`` uses the module's
    ``build_parser``. A parse error raises SystemExit with a non-zero code."""
    if args[0] == "main.py":
        import app.cli
        import app.launch
        import main

        parsed = []
        monkeypatch.setattr(app.cli, "main", lambda argv: parsed.append(app.cli.build_parser().parse_args(argv)) or 0)
        monkeypatch.setattr(app.launch, "main", lambda argv: parsed.append(app.launch.build_parser().parse_args(argv)) or 0)
        assert main.main(args[1:]) == 0 and len(parsed) == 1
    elif args[0] == "-m":
        module = importlib.import_module(args[1])
        module.build_parser().parse_args(args[2:])
    else:
        pytest.fail(f"README.md shows 'python {' '.join(args)}', which is neither main.py nor -m")


@pytest.mark.parametrize("args", readme_python_commands(), ids=lambda a: " ".join(a))
def test_readme_command_parses(args, monkeypatch):
    """Each full command, with its flags and arguments, is accepted by the parser that runs it."""
    try:
        parse_as_run(args, monkeypatch)
    except SystemExit as exit:
        pytest.fail(f"'python {' '.join(args)}' from README.md does not parse (exit {exit.code})")


def known_flags() -> set[str]:
    """Every option string of every parser the README's commands reach."""
    import argparse

    import app.cli
    import app.launch

    parsers = [app.cli.build_parser(), app.launch.build_parser()]
    parsers += [importlib.import_module(a[1]).build_parser() for a in readme_python_commands() if a[0] == "-m"]
    flags: set[str] = set()
    while parsers:
        parser = parsers.pop()
        for action in parser._actions:
            flags.update(action.option_strings)
            if isinstance(action, argparse._SubParsersAction):
                parsers += list(action.choices.values())
    return flags


def test_readme_flags_exist():
    """Every `--flag` the README's prose names is an option of one of the parsers."""
    named = set(re.findall(r"`(--[a-z][\w-]*)", README))
    for args in readme_python_commands():
        named |= {w for w in args if w.startswith("--")}
    unknown = sorted(named - known_flags())
    assert named and not unknown, f"README.md names flags no command accepts: {unknown}"


# --- (e) the paths exist ----------------------------------------------------------------------


REPO_PATH = re.compile(r"(?:core|app|assets|tests|\.ci)(?:/[\w.-]+)*/?")


def test_readme_repository_paths_exist():
    """Every backticked path under core/, app/, assets/, tests/ or .ci/ exists."""
    paths = {p for p in re.findall(r"`([^`\s]+)`", README) if REPO_PATH.fullmatch(p)}
    assert paths, "README.md names no repository paths"
    missing = sorted(p for p in paths if not (ROOT / p).exists())
    assert not missing, f"README.md names paths that do not exist: {missing}"


def test_readme_layout_files_exist():
    """In "Layout", each bullet's first `name` exists; when it is a folder, the `file.py` and
    `folder/` names in the rest of the bullet exist inside it."""
    body = sections(README).get("Layout")
    assert body is not None, "README.md has no '## Layout' section"
    bullets = re.split(r"^- ", body, flags=re.MULTILINE)[1:]
    assert bullets, "README.md's Layout has no bullets"
    missing = []
    for bullet in bullets:
        names = re.findall(r"`([^`\s]+)`", bullet)
        if not names:
            continue
        subject, rest = names[0], names[1:]
        if not (ROOT / subject).exists():
            missing.append(subject)
        if subject.endswith("/"):
            missing += [subject + n for n in rest
                        if re.fullmatch(r"[\w.-]+\.py|[\w.-]+/", n) and not (ROOT / subject / n).exists()]
    assert not missing, f"README.md's Layout names files that do not exist: {missing}"
