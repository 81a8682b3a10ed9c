"""The hostile input corpus: series folders built from the repository's own valid files.

Each ``Case`` writes one ``series/`` folder under a root. The root also holds
``outside.txt``, a file outside the series folder with a marker line: links point at it,
and no output may ever contain the marker. Categories: mutations of valid files, type
confusions, huge and deep values, links and special files, odd names, settings, and folders
of 5,000 files.
"""

from __future__ import annotations

import os
import random
import shutil
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

REPO_SERIES = Path(__file__).resolve().parents[2] / "series"
OUTSIDE_MARKER = "OUTSIDE-MARKER-5f1c:postgres:!:19000:0:99999:7:::"
SEED = 11


@dataclass(frozen=True)
class Case:
    name: str
    category: str
    build: Callable[[Path], None]
    # Cases that hold many files or block a reader: always in a child process.
    isolate: bool = False


def valid_files() -> dict[str, bytes]:
    """The repository's series files (key path -> bytes), settings excluded."""
    files = {}
    for path in sorted(REPO_SERIES.rglob("*.yaml")):
        relative = path.relative_to(REPO_SERIES).as_posix()
        if relative != "reconciler.yaml" and not relative.startswith("."):
            files[relative] = path.read_bytes()
    return files


def _base(root: Path) -> Path:
    """A copy of the repository's series folder, and the file outside it."""
    series = root / "series"
    shutil.copytree(REPO_SERIES, series, ignore=shutil.ignore_patterns(".state", ".reconciler"))
    (root / "outside.txt").write_text(OUTSIDE_MARKER + "\n")
    return series


def _with_file(relative: str, data: bytes) -> Callable[[Path], None]:
    def build(root: Path) -> None:
        path = _base(root) / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)

    return build


# --- mutations of one valid file ----------------------------------------------------------------


def _lines(data: bytes) -> list[bytes]:
    return data.split(b"\n")


def _field_lines(data: bytes) -> list[int]:
    return [
        i
        for i, line in enumerate(_lines(data))
        if line and not line.startswith((b"#", b" ", b"-")) and b":" in line
    ]


def _replace_value(data: bytes, index: int, value: bytes) -> bytes:
    lines = _lines(data)
    key = lines[index].split(b":", 1)[0]
    lines[index] = key + b": " + value
    return b"\n".join(lines)


TYPE_CONFUSIONS: dict[str, bytes] = {
    "null": b"null",
    "empty": b"",
    "list": b"[1, 2, 3]",
    "mapping": b"{a: 1}",
    "bool": b"true",
    "yes": b"yes",
    "string-number": b"'100'",
    "negative": b"-1",
    "huge-int": b"123456789012345678901234567890",
    "float": b"1e308",
    "nan": b".nan",
    "inf": b"-.inf",
    "date": b"2025-13-45",
    "timestamp": b"9999-12-31T23:59:59Z",
    "far-offset": b"'2030-01-01T00:00:00+99:00'",
    "binary-tag": b"!!binary aGVsbG8=",
    "python-tag": b"!!python/object:os.system [echo]",
    "custom-tag": b"!foo bar",
    "alias-undefined": b"*nope",
    "json-string": b'\'{"dom": [1], "dow": [8]}\'',
    "long-string": b"'" + b"x" * 200_000 + b"'",
    "bidi": "'\u202egnp.exe\u2066 \x1b[2J'".encode(),
    "control": b'"\\x00\\x07\\x1b]0;title\\x07"',
    "html": b"'<img src=x onerror=alert(1)> @team #1 https://evil.example'",
}


def _mutations(relative: str, data: bytes) -> Iterator[Case]:
    rng = random.Random(f"{SEED}:{relative}")
    fields = _field_lines(data)
    lines = _lines(data)

    def case(name: str, mutated: bytes, category: str = "mutation") -> Case:
        return Case(f"{relative}:{name}", category, _with_file(relative, mutated))

    # Structure: lines removed, repeated, re-indented; bytes cut or flipped.
    index = rng.choice(fields)
    yield case("drop-line", b"\n".join(lines[:index] + lines[index + 1 :]))
    yield case("duplicate-line", b"\n".join(lines[: index + 1] + lines[index:]))
    yield case(
        "indent-line", b"\n".join([*lines[:index], b"   " + lines[index], *lines[index + 1 :]])
    )
    yield case(
        "tab-indent", b"\n".join([*lines[:index], b"\t" + lines[index], *lines[index + 1 :]])
    )
    cut = rng.randrange(1, len(data))
    yield case("truncated", data[:cut])
    flipped = bytearray(data)
    flipped[rng.randrange(len(data))] ^= 0xFF
    yield case("flipped-byte", bytes(flipped))
    yield case("unknown-field", data + b"\ncolour: blue\n")
    yield case("crlf", data.replace(b"\n", b"\r\n"))
    yield case("bom", b"\xef\xbb\xbf" + data)
    yield case("two-documents", data + b"\n---\n" + data)
    yield case("nul-byte", data[:cut] + b"\x00" + data[cut:])
    # Type confusion: every kind of value in two random fields.
    for name, value in TYPE_CONFUSIONS.items():
        target = rng.choice(fields)
        yield case(f"type-{name}", _replace_value(data, target, value), "type confusion")


# --- whole-file cases ----------------------------------------------------------------------------


def _whole_files() -> Iterator[Case]:
    def whole(name: str, data: bytes, category: str = "huge or deep") -> Case:
        # Nesting and size are what once crashed a process: those run in a child.
        risky = name.startswith(("deep", "alias", "json", "wide", "many", "just", "long"))
        return Case(name, category, _with_file("hostile.yaml", data), isolate=risky)

    yield whole("deep-flow-list", b"info: " + b"[" * 30_000 + b"]" * 30_000)
    yield whole("deep-flow-map", b"info: " + b"{a: " * 30_000 + b"}" * 30_000)
    yield whole("deep-block-list", b"info:\n  " + b"- " * 30_000 + b"x")
    yield whole("deep-mixed", b"info: " + b"[{a: " * 20_000 + b"}]" * 20_000)
    yield whole("deep-200", b"info: " + b"[" * 200 + b"]" * 200)
    yield whole("alias-bomb", _alias_bomb())
    yield whole("wide-list", b"info: [" + b"1," * 120_000 + b"]")
    yield whole("many-keys", b"".join(b"k%d: %d\n" % (i, i) for i in range(40_000)))
    yield whole("just-over-limit", b"info: '" + b"x" * (512 * 1024) + b"'\n")
    yield whole("long-line", b"description: " + b"y" * 500_000 + b"\n")
    yield whole("invalid-utf8", b"description: \xff\xfe\xfa\n")
    yield whole("utf16", "description: x\n".encode("utf-16"))
    yield whole("top-list", b"- a\n- b\n")
    yield whole("top-scalar", b"just text\n")
    yield whole("empty", b"")
    yield whole("comments-only", b"# nothing\n# here\n")
    yield whole("merge-key", b"base: &b {discountValue: 1}\n<<: *b\n")
    yield whole("complex-key", b"? [a, b]\n: 1\n")
    yield whole(
        "json-5000-deep-range", b"redemptionRange: '" + b"[" * 5_000 + b"]" * 5_000 + b"'\n"
    )
    yield whole("json-5000-deep-stores", b"storeIdsJson: '" + b"[" * 5_000 + b"]" * 5_000 + b"'\n")
    yield whole("control-chars", b"description: \x01\x02\x1b[2J\n")
    yield whole("reserved-weird", b"reconciler: {ignore: [{field: 1}], retire: maybe}\n")
    yield whole("ignore-many", b"reconciler:\n  ignore:\n" + b"    - field: x\n" * 5000)


def _alias_bomb() -> bytes:
    lines = [b"a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        refs = ", ".join([f"*a{i - 1}"] * 10).encode()
        lines.append(b"a%d: &a%d [%s]" % (i, i, refs))
    return b"\n".join(lines) + b"\n"


# --- links, special files, odd names --------------------------------------------------------


def _entries() -> Iterator[Case]:
    def entry(
        name: str, make: Callable[[Path, Path], None], category: str, *, isolate: bool = False
    ) -> Case:
        def build(root: Path) -> None:
            make(_base(root), root)

        return Case(name, category, build, isolate=isolate)

    def link(target: str) -> Callable[[Path, Path], None]:
        def make(series: Path, root: Path) -> None:
            (series / "link.yaml").symlink_to(target.format(root=root))

        return make

    yield entry("link-outside-file", link("{root}/outside.txt"), "links and special files")
    yield entry("link-outside-relative", link("../outside.txt"), "links and special files")
    yield entry("link-etc-passwd", link("/etc/passwd"), "links and special files")
    yield entry("link-dev-zero", link("/dev/zero"), "links and special files", isolate=True)
    yield entry("link-dev-random", link("/dev/urandom"), "links and special files", isolate=True)
    yield entry("link-self", link("link.yaml"), "links and special files")
    yield entry("link-dangling", link("{root}/nowhere.yaml"), "links and special files")
    yield entry("link-inside", link("docs/april-100.yaml"), "links and special files")
    yield entry("link-to-folder", link("{root}"), "links and special files")

    def valid_outside(series: Path, root: Path) -> None:
        (root / "elsewhere.yaml").write_bytes((REPO_SERIES / "docs/april-100.yaml").read_bytes())
        (series / "outside-valid.yaml").symlink_to(root / "elsewhere.yaml")

    yield entry("link-valid-series-outside", valid_outside, "links and special files")

    def folder_link(series: Path, root: Path) -> None:
        (root / "ext").mkdir()
        (root / "ext" / "x.yaml").write_text(OUTSIDE_MARKER + ": 1\n")
        (series / "ext").symlink_to(root / "ext")

    yield entry("link-folder-outside", folder_link, "links and special files")

    def settings_link(series: Path, root: Path) -> None:
        (series / "reconciler.yaml").unlink()
        (series / "reconciler.yaml").symlink_to(root / "outside.txt")

    yield entry("link-settings", settings_link, "links and special files")
    yield entry("fifo", lambda s, _r: os.mkfifo(s / "pipe.yaml"), "links and special files")
    yield entry("fifo-settings", _fifo_settings, "links and special files")
    yield entry("socket", _socket, "links and special files")
    yield entry(
        "folder-named-yaml", lambda s, _r: (s / "dir.yaml").mkdir(), "links and special files"
    )
    yield entry("sparse-4gb", _sparse, "links and special files", isolate=True)

    def named(name: bytes) -> Callable[[Path, Path], None]:
        def make(series: Path, _root: Path) -> None:
            path = os.path.join(os.fsencode(series), name)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as handle:
                handle.write((REPO_SERIES / "docs/april-100.yaml").read_bytes())

        return make

    names = {
        "name-not-utf8": b"\xff\xfe.yaml",
        "folder-not-utf8": b"dir-\xff/x.yaml",
        "name-newline": b"a\nb.yaml",
        "name-bidi": "\u202egnp.yaml".encode(),
        "name-escape": b"\x1b[2Jx.yaml",
        "name-long": b"n" * 250 + b".yaml",
        "name-dash": b"-rf.yaml",
        "name-quotes": b'it\'s "q".yaml',
        "name-dots": b"..yaml",
        "name-nfd": "cafe\u0301.yaml".encode(),
        "name-both-suffixes": b"docs/april-100.yml",
        "name-deep-folders": b"/".join([b"d"] * 60) + b"/x.yaml",
    }
    for name, raw in names.items():
        yield entry(name, named(raw), "odd names")


def _fifo_settings(series: Path, _root: Path) -> None:
    (series / "reconciler.yaml").unlink()
    os.mkfifo(series / "reconciler.yaml")


def _socket(series: Path, _root: Path) -> None:
    sock = socket.socket(socket.AF_UNIX)
    try:
        sock.bind(str(series / "sock.yaml"))
    except OSError:  # path too long for a unix socket: a FIFO stands in
        os.mkfifo(series / "sock.yaml")
    finally:
        sock.close()


def _sparse(series: Path, _root: Path) -> None:
    with (series / "huge.yaml").open("wb") as handle:
        handle.truncate(4 * 1024**3)


# --- settings ------------------------------------------------------------------------------------

SETTINGS_CASES: dict[str, str] = {
    "userinfo-url": "environments:\n  p:\n    base_url: https://u:SECRET-IN-URL@h.example\n",
    "query-url": "environments:\n  p:\n    base_url: https://h.example/?key=SECRET-IN-URL\n",
    "bad-port-url": "environments:\n  p:\n    base_url: https://h.example:SECRET-IN-URL/\n",
    "http-remote": "environments:\n  p:\n    base_url: http://h.example\n",
    "password-key": "environments:\n  p:\n    password: SECRET-IN-FILE\n",
    "defaults-list": "defaults: [1, 2]\n",
    "defaults-bad-field": "defaults:\n  discountValue: lots\n  bogus: 1\n",
    "env-list": "environments: [a, b]\n",
    "env-scalar-body": "environments:\n  p: 3\n",
    "env-bad-types": "environments:\n  p:\n    batch_size: -1\n    timeout_seconds: .nan\n",
    "env-prefix-lower": "environments:\n  p:\n    env_prefix: lower\n",
    "ignore-bad": "ignore: [{field: nope}, 3, {reason: x}]\n",
    "unknown-section": "colours: {a: 1}\n",
    "settings-deep": "defaults: " + "[" * 30_000 + "]" * 30_000 + "\n",
    "settings-top-list": "- a\n",
    "settings-empty": "",
}


def _settings_cases() -> Iterator[Case]:
    for name, text in SETTINGS_CASES.items():

        def build(root: Path, text: str = text) -> None:
            (_base(root) / "reconciler.yaml").write_text(text)

        yield Case(f"settings:{name}", "settings", build, isolate=name == "settings-deep")


# --- 5,000-file folders ---------------------------------------------------------------------------


def _folders() -> Iterator[Case]:
    template = (REPO_SERIES / "docs/april-100.yaml").read_text()

    def many(shared: bool) -> Callable[[Path], None]:
        def build(root: Path) -> None:
            series = _base(root)
            bulk = series / "bulk"
            bulk.mkdir()
            for i in range(5_000):
                code = "SHARED1" if shared else f"BULK{i:05d}"
                text = template.replace("XYZ12345", code)
                (bulk / f"s{i:05d}.yaml").write_text(text)

        return build

    yield Case("5000-files-one-discount-code", "5,000-file folder", many(True), isolate=True)
    yield Case("5000-files-distinct", "5,000-file folder", many(False), isolate=True)


def corpus() -> list[Case]:
    cases: list[Case] = []
    for relative, data in valid_files().items():
        cases.extend(_mutations(relative, data))
    cases.extend(_whole_files())
    cases.extend(_entries())
    cases.extend(_settings_cases())
    cases.extend(_folders())
    return cases
