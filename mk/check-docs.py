#!/usr/bin/env python3
"""Checks that the man pages and the shipped config document every interface.

  check-docs.py config VOUCHD      every key `vouchd --check-config` prints is in
                                   man/vouchd.conf.5 (with its default and the
                                   right [reload]/[restart] mark, taken from
                                   ReloadService.swift) and in etc/vouch/vouchd.conf
                                   (with its default); every option and
                                   subcommand of `vouchd --help` is in man/vouchd.8
  check-docs.py vouchctl VOUCHCTL  every command of `vouchctl help ...` has an
                                   entry in man/vouchctl.8 naming each of its options
  check-docs.py clib LIBVOUCH      every function of vouch.h and VOUCH_ERR_* code is
                                   in man/libvouch.3; the library's exported symbols
                                   (nm -D) are exactly debian/libvouch1.symbols'
  check-docs.py pam                every option pam_vouch.c parses is in man/pam_vouch.8

Run from the top of the source tree (mk/docs.mk does).  Prints every problem,
exits 1 if there is one.
"""

import os
import re
import subprocess
import sys
import tempfile

problems: list[str] = []


def problem(text: str) -> None:
    problems.append(text)


def read(path: str) -> str:
    with open(path, encoding="utf-8") as f:
        return f.read()


def roff_text(text: str) -> str:
    """Roff source made comparable with plain text: escapes and quotes gone."""
    text = re.sub(r"\\f[BIRP]|\\f\[[A-Z]*\]|\\&|\\c", "", text)
    text = text.replace("\\-", "-").replace("\\(dq", '"').replace("\\(aq", "'").replace("\\e", "\\")
    return text


def man_entries(path: str) -> list[tuple[str, str]]:
    """(heading, body) of every .TP entry: the heading without its macro and quotes."""
    lines = roff_text(read(path)).splitlines()
    entries = []
    i = 0
    while i < len(lines):
        if lines[i].startswith(".TP") and i + 1 < len(lines):
            heading = re.sub(r"^\.(B|BI|BR|I|IR|RB)\s+", "", lines[i + 1]).replace('"', "")
            body = []
            j = i + 2
            while j < len(lines) and not re.match(r"\.(TP|SS|SH)\b", lines[j]):
                body.append(lines[j])
                j += 1
            entries.append((heading.strip(), "\n".join(body)))
            i = j
        else:
            i += 1
    return entries


# ---- vouchd.conf -----------------------------------------------------------


def seconds(duration: str) -> "int | None":
    m = re.fullmatch(r"(\d+)([smhd]?)", duration)
    if not m:
        return None
    return int(m.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]


def check_config(vouchd: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        empty = os.path.join(tmp, "empty.conf")
        open(empty, "w").close()
        os.chmod(empty, 0o644)
        out = subprocess.run(
            [vouchd, "--config", empty, "--check-config"], capture_output=True, text=True, check=True
        ).stdout
    defaults = {}
    for line in out.splitlines():
        key, _, value = line.partition(" = ")
        if key and value:
            defaults[key] = value
    if len(defaults) < 20:
        problem(f"{vouchd} --check-config printed {len(defaults)} keys; expected the whole table")

    # [reload] keys: those whose property ReloadService copies from the file.
    loader = read("Sources/VouchCore/Config/ConfigLoader.swift")
    property_of = dict(re.findall(r'\.\w+\("(\w+)",\s*\\\.(\w+)', loader))
    reloaded = set(re.findall(r"next\.(\w+) = loaded\.\1", read("Sources/VouchServer/ReloadService.swift")))
    if not reloaded or set(defaults) - set(property_of):
        problem("cannot tell the [reload] keys from ConfigLoader.swift and ReloadService.swift")

    man = {}
    for heading, _ in man_entries("man/vouchd.conf.5"):
        m = re.match(r"(\w+)\s+=\s+(\S+)\s+\[(reload|restart)\]$", heading)
        if m:
            man[m.group(1)] = (m.group(2), m.group(3))
    shipped = dict(re.findall(r"^(\w+) = (.*)$", read("etc/vouch/vouchd.conf"), re.M))

    def same(documented: str, value: str) -> bool:
        """Equal values, durations compared in seconds (24h is 1d)."""
        return documented == value or (seconds(documented) or -1) == seconds(value)

    for key, value in defaults.items():
        expected = "reload" if property_of.get(key) in reloaded else "restart"
        if key not in man:
            problem(f"man/vouchd.conf.5: no entry for {key} (default {value}, [{expected}])")
        else:
            if not same(man[key][0], value):
                problem(f"man/vouchd.conf.5: {key}: default {man[key][0]}, vouchd says {value}")
            if man[key][1] != expected:
                problem(f"man/vouchd.conf.5: {key}: [{man[key][1]}], ReloadService says [{expected}]")
        if key not in shipped:
            problem(f"etc/vouch/vouchd.conf: no line for {key} (default {value})")
        elif not same(shipped[key], value):
            problem(f"etc/vouch/vouchd.conf: {key} = {shipped[key]}, the default is {value}")
    for key in sorted(set(man) - set(defaults)):
        problem(f"man/vouchd.conf.5: {key} is not a key of vouchd")
    for key in sorted(set(shipped) - set(defaults)):
        problem(f"etc/vouch/vouchd.conf: {key} is not a key of vouchd")


def check_vouchd_options(vouchd: str) -> None:
    """Every option and subcommand of `vouchd --help` has an entry in vouchd(8)."""
    sections = help_sections(subprocess.run([vouchd, "--help"], capture_output=True, text=True, check=True).stdout)
    names = set()
    for line in sections.get("OPTIONS", []):
        if re.match(r"^  -", line):
            names |= set(re.findall(r"--[a-z][a-z0-9-]*", re.split(r"\s{2,}", line.strip())[0]))
    for line in sections.get("SUBCOMMANDS", []):
        m = re.match(r"^  ([a-z][a-z0-9-]*)(\s{2,}|$)", line)
        if m and m.group(1) != "help":
            names.add(m.group(1))
    if len(names) < 5:
        problem(f"{vouchd} --help lists {len(names)} options; expected every option")
    headings = [h for h, _ in man_entries("man/vouchd.8")]
    for name in sorted(names):
        if not any(re.search(r"(^|[\s,])" + re.escape(name) + r"(?![a-z-])", h) for h in headings):
            problem(f"man/vouchd.8: {name} has no entry under OPTIONS")


# ---- vouchctl --------------------------------------------------------------

GLOBAL_OPTIONS = {"--socket", "--timeout", "--help", "--version", "--json"}


def help_sections(text: str) -> dict[str, list[str]]:
    sections: dict[str, list[str]] = {}
    current = None
    for line in text.splitlines():
        m = re.match(r"^([A-Z][A-Z ]+):\s*$", line)
        if m:
            current = m.group(1)
            sections[current] = []
        elif current and line.strip():
            sections[current].append(line)
    return sections


def commands(vouchctl: str, path: list[str]) -> list[tuple[list[str], set[str]]]:
    """(command path, its options) of every leaf command under `path`."""
    run = subprocess.run([vouchctl, "help", *path], capture_output=True, text=True)
    if run.returncode != 0:
        problem(f"vouchctl help {' '.join(path)}: exit {run.returncode}: {run.stderr.strip()}")
        return []
    sections = help_sections(run.stdout)
    subs = [
        m.group(1)
        for m in (re.match(r"^  ([a-z][a-z0-9-]*)(\s{2,}|$)", line) for line in sections.get("SUBCOMMANDS", []))
        if m and m.group(1) != "help"
    ]
    if subs and len(path) > 3:
        problem(f"vouchctl help {' '.join(path)}: commands nested deeper than expected: {subs}")
        return []
    if subs:
        return [leaf for sub in subs for leaf in commands(vouchctl, path + [sub])]
    options = set()
    for line in sections.get("OPTIONS", []):
        if re.match(r"^  -", line):
            options |= set(re.findall(r"--[a-z][a-z0-9-]*", re.split(r"\s{2,}", line.strip())[0]))
    return [(path, options - GLOBAL_OPTIONS)]


def check_vouchctl(vouchctl: str) -> None:
    leaves = commands(vouchctl, [])
    if len(leaves) < 20:
        problem(f"vouchctl help lists {len(leaves)} commands; expected every command")
    entries = man_entries("man/vouchctl.8")
    for path, options in leaves:
        name = " ".join(path)
        found = [(h, b) for h, b in entries if h == name or h.startswith(name + " ")]
        if not found:
            problem(f"man/vouchctl.8: no entry for `vouchctl {name}`")
            continue
        text = "\n".join(h + "\n" + b for h, b in found)
        for option in sorted(options):
            if not re.search(re.escape(option) + r"(?![a-z-])", text):
                problem(f"man/vouchctl.8: `vouchctl {name}`: {option} is not documented")


# ---- libvouch --------------------------------------------------------------


def check_clib(library: str) -> None:
    header = read("Sources/CVouch/include/vouch.h")
    man = roff_text(read("man/libvouch.3"))
    functions = re.findall(r"VOUCH_API[^;(]*?\b(vouch_\w+)\(", header)
    for name in functions:
        if not re.search(r"\b" + name + r"\(", man):
            problem(f"man/libvouch.3: {name} is not in the SYNOPSIS")
    for name, code in re.findall(r"#define (VOUCH_ERR_\w+)\s+(-\d+)", header):
        if not re.search(re.escape(code) + r";" + name + r";", man):
            problem(f"man/libvouch.3: {code} {name} is not in the table of codes")
    nm = subprocess.run(["nm", "-D", "--defined-only", library], capture_output=True, text=True, check=True)
    exported = set()
    for line in nm.stdout.splitlines():
        fields = line.split()
        if len(fields) == 3:  # "0000... T vouch_open@@VOUCH_1", "0000... A VOUCH_1"
            exported.add(fields[2].replace("@@", "@") if "@" in fields[2] else f"{fields[2]}@{fields[2]}")
    listed = set(re.findall(r"^ (\S+) ", read("debian/libvouch1.symbols"), re.M))
    if not exported:
        problem(f"nm -D {library}: no symbols")
    for symbol in sorted(exported - listed):
        problem(f"debian/libvouch1.symbols: {symbol} is exported by {library} but not listed")
    for symbol in sorted(listed - exported):
        problem(f"debian/libvouch1.symbols: {symbol} is listed but {library} does not export it")
    for name in functions:
        if name + "@VOUCH_1" not in exported:
            problem(f"{library}: {name} (vouch.h) is not exported as {name}@VOUCH_1")


# ---- pam_vouch -------------------------------------------------------------


def check_pam() -> None:
    source = read("Sources/pam_vouch/pam_vouch.c")
    start = source.index("parse_options(")
    parser = source[start : source.index("\n}\n", start)]
    options = re.findall(r'str(?:n?cmp)\(a, "([a-z_]+=?)"', parser)
    if len(options) < 5:
        problem("cannot find pam_vouch's options in parse_options")
    man = roff_text(read("man/pam_vouch.8"))
    headings = {h for h, _ in man_entries("man/pam_vouch.8")}
    synopsis = man[man.index(".SH SYNOPSIS") : man.index(".SH DESCRIPTION")]
    for option in options:
        if not any(h == option or h.startswith(option) for h in headings):
            problem(f"man/pam_vouch.8: option {option} has no entry under OPTIONS")
        if option not in synopsis:
            problem(f"man/pam_vouch.8: option {option} is not in the SYNOPSIS")


def main() -> None:
    what = sys.argv[1:2]
    if what == ["config"]:
        check_config(sys.argv[2])
        check_vouchd_options(sys.argv[2])
    elif what == ["vouchctl"]:
        check_vouchctl(sys.argv[2])
    elif what == ["clib"]:
        check_clib(sys.argv[2])
    elif what == ["pam"]:
        check_pam()
    else:
        sys.exit(__doc__)
    for p in problems:
        print(f"check-docs: {p}", file=sys.stderr)
    if problems:
        sys.exit(1)
    print(f"check-docs {what[0]}: OK")


if __name__ == "__main__":
    main()
