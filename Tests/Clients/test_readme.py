"""The README's walk-throughs, run as a newcomer runs them: every ```sh block of the sections whose
heading starts with "Walk-through" or "Realtime", in order, in one bash session (so what a block
keeps in a variable or a file is there for the next), against a fresh `parley serve`.

A block's commands are its lines that start with `$ ` (continued by lines after a trailing `\\`);
the lines after a command, up to the next command or the first line that starts with `#`, are what
the README says it prints. `localhost:8080` and `127.0.0.1:8080` in commands become the test
server's address, PARLEY_URL names it (scripts/ws reads it), and PARLEY_LOG is its log file, where
mail goes without --smtp-url. The session runs in a fresh folder that links the repository's
folders, so `scripts/ws` and `Tests/Fixtures/…` resolve as they do from the repository's root.

Two HTML comments, on the line before a block, mark the blocks a test cannot run as written:

    <!-- not run: REASON -->          the block is shown, not run
    <!-- run instead: COMMANDS -->    COMMANDS run in its place (a value the reader copies by hand,
                                      like the token of a link in the server log)

Every command must exit 0, and its answers must have the shape that the README shows:
- the status: curl's last HTTP status is the one a trailing `# NNN` comment on the command names,
  or the `status` of a problem (RFC 9457) the README shows; otherwise every status is below 400;
- the output: nothing when the README shows nothing; the same lines when it shows text; when it
  shows JSON — abridged with `…` as a value, in a string, or standing for more members or items —
  every JSON value printed, with the same field names (only those shown, unless an object has a
  `…`), the same numbers, booleans and strings, except where a string is by nature different on
  each run (ids, times, tokens, signatures, request ids) or is abridged; then its shape is
  compared. When several values are shown (frames), the first must come first and the others may
  come in any order.
"""

import json
import os
import re
import subprocess
from dataclasses import dataclass, field

from conftest import ROOT

README = ROOT / "README.md"
SECTIONS = ("Walk-through", "Realtime")
NOT_RUN = re.compile(r"^<!--\s*not run:\s*(.+?)\s*-->$")
RUN_INSTEAD = re.compile(r"^<!--\s*run instead:\s*(.+?)\s*-->$")
STATUS_COMMENT = re.compile(r"#\s*(\d{3})\b[^'\"]*$")
MARKER = re.compile(r"\n\x1e(\d+) (\d+)\n")


@dataclass
class Command:
    line: int  # in README.md
    text: str
    shown: list = field(default_factory=list)  # the output lines the README shows
    checked: bool = True  # False for a `run instead` replacement

    @property
    def status(self):
        """The status a trailing `# NNN` comment names, or None."""
        match = STATUS_COMMENT.search(self.text.splitlines()[-1])
        return int(match.group(1)) if match else None


def readme_commands(text):
    """The commands of the walk-through sections, in order, and the blocks left out with why."""
    commands, skipped = [], []
    lines = text.splitlines()
    section = None
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("## "):
            section = line[3:]
        selected = section is not None and section.startswith(SECTIONS)
        if selected and line.strip() == "```sh":
            start = i + 1
            end = start
            while lines[end].strip() != "```":
                end += 1
            before = next((lines[j].strip() for j in range(i - 1, -1, -1) if lines[j].strip()), "")
            if match := NOT_RUN.match(before):
                skipped.append((start, match.group(1)))
            elif match := RUN_INSTEAD.match(before):
                commands.append(Command(start, match.group(1), checked=False))
            else:
                commands.extend(block_commands(lines[start:end], start + 1))
            i = end
        i += 1
    return commands, skipped


def block_commands(lines, first_line):
    commands, commentary = [], False
    for offset, line in enumerate(lines):
        if line.startswith("$ "):
            commands.append(Command(first_line + offset, line[2:]))
            commentary = False
        elif commands and commands[-1].text.endswith("\\") and not commentary and not commands[-1].shown:
            commands[-1].text += "\n" + line
        elif line.startswith("#"):
            commentary = True
        elif line.strip() and commands and not commentary:
            commands[-1].shown.append(line)
    return commands


# --- the README's abridged JSON ----------------------------------------------------------------

class Obj(dict):
    open = False  # a `…` stands for members not shown


class Arr(list):
    open = False


class Anything:
    def __repr__(self):
        return "…"


ANYTHING = Anything()
TOKEN = re.compile(r'\s*(?:([{}\[\]:,])|(…)|(")|(-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?|true|false|null))')


def parse_shown(text):
    """The JSON values of `text`, where `…` may stand for a value, members of an object or items of
    an array, besides appearing inside strings."""
    values, position = [], 0
    tokens = []
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = TOKEN.match(text, position)
        if not match:
            raise ValueError(f"not JSON at {text[position:position + 40]!r}")
        if match.group(3):
            value, position = json.decoder.scanstring(text, match.end())
            tokens.append(("str", value))
            continue
        position = match.end()
        if match.group(1):
            tokens.append((match.group(1), None))
        elif match.group(2):
            tokens.append(("…", None))
        else:
            tokens.append(("lit", json.loads(match.group(4))))
    index = 0

    def value():
        nonlocal index
        kind, content = tokens[index]
        index += 1
        if kind == "{":
            result = Obj()
            while tokens[index][0] != "}":
                if tokens[index][0] == "…":
                    result.open = True
                    index += 1
                elif tokens[index][0] == ",":
                    index += 1
                else:
                    key_kind, key = tokens[index]
                    assert key_kind == "str" and tokens[index + 1][0] == ":", f"bad member at token {index}"
                    index += 2
                    result[key] = value()
            index += 1
            return result
        if kind == "[":
            result = Arr()
            while tokens[index][0] != "]":
                if tokens[index][0] == "…":
                    result.open = True
                    index += 1
                elif tokens[index][0] == ",":
                    index += 1
                else:
                    result.append(value())
            index += 1
            return result
        if kind == "…":
            return ANYTHING
        if kind in ("str", "lit"):
            return content
        raise ValueError(f"unexpected {kind!r}")

    while index < len(tokens):
        values.append(value())
    return values


def printed_values(text):
    decoder, values, position = json.JSONDecoder(), [], 0
    text = text.strip()
    while position < len(text):
        value, position = decoder.raw_decode(text, position)
        values.append(value)
        while position < len(text) and text[position].isspace():
            position += 1
    return values


# Parts of strings that differ on every run, in the order they are replaced.
VARYING = [
    (re.compile(r"eyJ[\w-]*\.[\w-]*\.[\w-]*|eyJ[\w-]*…"), "<jwt>"),
    (re.compile(r"\b(rt|pr)_[\w-]+…?"), r"\1_<secret>"),
    (re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{8}-…"), "<id>"),
    (re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z"), "<time>"),
    (re.compile(r"\bexp=\d+"), "exp=<exp>"),
    (re.compile(r"\bsig=[\w-]+"), "sig=<sig>"),
    (re.compile(r"\bcurl/[\d.]+"), "curl/<version>"),
    (re.compile(r"\b[0-9a-f]{16}\b"), "<request id>"),
    (re.compile(r"[\w-]{40,}"), "<base64>"),
]


def normalized(text):
    for pattern, replacement in VARYING:
        text = pattern.sub(replacement, text)
    return text


def string_matches(shown, printed):
    shown, printed = normalized(shown), normalized(printed)
    if "…" not in shown:
        return shown == printed
    pattern = ".*".join(re.escape(part) for part in shown.split("…"))
    return re.fullmatch(pattern, printed, re.DOTALL) is not None


def differences(shown, printed, path="$"):
    """How `printed` differs from the abridged `shown`, as a list of sentences."""
    if shown is ANYTHING:
        return []
    if isinstance(shown, Obj):
        if not isinstance(printed, dict):
            return [f"{path}: an object is shown, {json.dumps(printed)[:80]} was printed"]
        keys = {normalized(key): key for key in printed}
        found = []
        for key, value in shown.items():
            if normalized(key) not in keys:
                found.append(f"{path}: no {key!r} (printed: {sorted(printed)})")
            else:
                found += differences(value, printed[keys[normalized(key)]], f"{path}.{key}")
        if not shown.open:
            extra = sorted(set(keys) - {normalized(key) for key in shown})
            if extra:
                found.append(f"{path}: {[keys[key] for key in extra]} printed, not shown")
        return found
    if isinstance(shown, Arr):
        if not isinstance(printed, list):
            return [f"{path}: an array is shown, {json.dumps(printed)[:80]} was printed"]
        if len(printed) < len(shown) or (not shown.open and len(printed) != len(shown)):
            return [f"{path}: {len(shown)} items shown, {len(printed)} printed"]
        return [d for i, item in enumerate(shown) for d in differences(item, printed[i], f"{path}[{i}]")]
    if isinstance(shown, str):
        if not isinstance(printed, str) or not string_matches(shown, printed):
            return [f"{path}: {shown!r} shown, {printed!r} printed"]
        return []
    if type(shown) is not type(printed) or shown != printed:
        return [f"{path}: {shown!r} shown, {printed!r} printed"]
    return []


def output_differences(shown_lines, printed):
    if not shown_lines:
        return [] if not printed.strip() else [f"prints nothing in the README, printed {printed.strip()[:200]!r}"]
    shown_text = "\n".join(shown_lines)
    if not shown_text.lstrip().startswith(("{", "[")):
        printed_lines = [line.rstrip() for line in printed.strip().splitlines()]
        wanted = [line.rstrip() for line in shown_lines]
        return [] if printed_lines == wanted else [f"shows {wanted}, printed {printed_lines}"]
    shown = parse_shown(shown_text)
    try:
        values = printed_values(printed)
    except ValueError:
        return [f"shows JSON, printed {printed.strip()[:300]!r}"]
    if len(values) != len(shown):
        return [f"shows {len(shown)} JSON values, printed {len(values)}: {printed.strip()[:600]}"]
    found = differences(shown[0], values[0])
    unused = list(values[1:])
    for index, expected in enumerate(shown[1:], start=1):
        match = next((value for value in unused if not differences(expected, value)), None)
        if match is not None:
            unused.remove(match)
            continue
        same_type = [v for v in unused if isinstance(expected, dict) and isinstance(v, dict)
                     and v.get("type") == expected.get("type")]
        closest = same_type[0] if same_type else unused[0]
        found += differences(expected, closest, f"value {index + 1}")
    return found


def status_differences(command, statuses, shown_values):
    if not statuses:
        return []
    wanted = command.status
    if wanted is None:
        problems = [v for v in shown_values if isinstance(v, dict) and isinstance(v.get("status"), int)]
        wanted = problems[0]["status"] if problems else None
    if wanted is not None:
        return [] if statuses[-1] == wanted else [f"HTTP status {statuses[-1]}, the README says {wanted}"]
    bad = [status for status in statuses if status >= 400]
    return [f"HTTP status {bad[0]}"] if bad else []


# --- the run -----------------------------------------------------------------------------------

PRELUDE = r"""
# curl as the README runs it, noting each HTTP status in the file $__status.
curl() { command curl --write-out '%{stderr}%{http_code}\n' "$@" 2>>"$__status"; }
"""


def session_script(commands, port, folder):
    parts = [PRELUDE]
    for number, command in enumerate(commands):
        text = command.text.replace("localhost:8080", f"127.0.0.1:{port}").replace("127.0.0.1:8080", f"127.0.0.1:{port}")
        parts.append(f'__status="{folder}/status.{number}"; : > "$__status"\n'
                     f"{{\n{text}\n}} 2>\"{folder}/stderr.{number}\"\n"
                     f"printf '\\n\\036%d %d\\n' {number} $?\n")
    return "".join(parts)


def test_the_readme_runs_as_written(server, tmp_path):
    commands, skipped = readme_commands(README.read_text())
    assert len(commands) > 40 and any("scripts/ws" in c.text for c in commands), "the walk-throughs were not found"
    assert all(reason for _, reason in skipped)

    work = tmp_path / "work"
    work.mkdir()
    for entry in ROOT.iterdir():  # the repository's folders, not its files: the session writes its own
        if entry.is_dir() and not entry.name.startswith("."):
            (work / entry.name).symlink_to(entry)
    notes = tmp_path / "notes"
    notes.mkdir()
    script = tmp_path / "session.sh"
    script.write_text(session_script(commands, server.port, notes))
    environment = dict(os.environ, PARLEY_URL=server.url, PARLEY_LOG=str(server.log_path), LC_ALL="C.UTF-8")
    run = subprocess.run(["bash", str(script)], cwd=work, env=environment,
                         capture_output=True, text=True, timeout=120)

    outputs, position = {}, 0
    for match in MARKER.finditer(run.stdout):
        outputs[int(match.group(1))] = (run.stdout[position:match.start()], int(match.group(2)))
        position = match.end()

    failures = []
    for number, command in enumerate(commands):
        where = f"README.md:{command.line}: $ {command.text.splitlines()[0][:100]}"
        if number not in outputs:
            failures.append(f"{where}\n    did not finish (bash: {run.stderr[-500:]!r})")
            break
        printed, exit_status = outputs[number]
        stderr = (notes / f"stderr.{number}").read_text(errors="replace").strip()
        statuses = [int(line) for line in (notes / f"status.{number}").read_text().split() if line.isdigit()]
        found = []
        if exit_status != 0:
            found.append(f"exit status {exit_status}" + (f"; stderr: {stderr[-300:]}" if stderr else ""))
        if command.checked:
            shown_text = "\n".join(command.shown)
            shown_values = parse_shown(shown_text) if shown_text.lstrip().startswith(("{", "[")) else []
            found += status_differences(command, statuses, shown_values)
            found += output_differences(command.shown, printed)
        if found:
            failures.append(where + "".join(f"\n    {line}" for line in found))
    assert not failures, "the README's walk-through breaks:\n" + "\n".join(failures)


def test_readme_ws_reports_the_servers_close(server):
    """scripts/ws, which the realtime walk-through uses, prints the code and reason of the server's
    close (here 4001, for a token that is no token) with each WebSocket library it can use."""
    import importlib.util

    libraries = [name for name, module in (("websockets", "websockets"), ("websocket-client", "websocket"))
                 if importlib.util.find_spec(module)]
    assert libraries, "scripts/client-test installs a WebSocket library"
    for library in libraries:
        run = subprocess.run([str(ROOT / "scripts" / "ws"), "not-a-token"], input="", capture_output=True,
                             text=True, timeout=20, env=dict(os.environ, PARLEY_URL=server.url, PARLEY_WS_LIBRARY=library))
        assert run.returncode == 1, (library, run)
        assert run.stdout == "", (library, run)
        assert re.search(r"closed by the server: 4001 \S", run.stderr), (library, run.stderr)
