#!/usr/bin/env python3
"""Generate crates/bosun-core/src/model/ssm_shapes.rs from botocore's SSM model.

The file describes the input shapes of every operation Bosun serves (the names in
crates/bosun-server/src/api/ops.rs OPERATIONS): members, types, required members, length and
value ranges, patterns, enums, list and map members. `bosun_core::model` validates requests
against it, so AWS's model-level `ValidationException`s come from botocore's data, never from
hand-written copies.

Usage (Python 3 standard library + botocore):
    python3 tools/gen-ssm-model.py           # rewrite the file
    python3 tools/gen-ssm-model.py --check   # exit 1 if the checked-in file differs
    python3 tools/gen-ssm-model.py --stdout  # print what would be written

Patterns: AWS evaluates them as Java regular expressions that must match the whole value. Each
is translated to the `regex` crate's syntax (Java's `\\w`, `\\s`, `\\d` are ASCII-only; a
lookahead the crate lacks is rewritten by hand below); a pattern this script cannot translate
is emitted with `rust: None` and its reason, and a test in bosun-core lists every such one.
"""

import os
import re
import sys

from botocore import __version__ as BOTOCORE_VERSION
from botocore.loaders import create_loader

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OPS_FILE = os.path.join(ROOT, "crates/bosun-server/src/api/ops.rs")
OUT_FILE = os.path.join(ROOT, "crates/bosun-core/src/model/ssm_shapes.rs")

# Java's line terminators (what `.` does not match) and ASCII whitespace (Java's `\s`).
JAVA_LINE_END = r"\n\r\u{85}\u{2028}\u{2029}"
JAVA_SPACE = r" \t\n\x0B\x0C\r"

# Patterns with constructs the `regex` crate lacks, rewritten by hand to the same language.
HAND_TRANSLATED = {
    # "Not blank": a lookahead refusing an all-whitespace value, then one line of any text.
    # Under a whole-value match `.+` forbids line terminators, so `\s*$` can only end at the
    # end of the value: the value holds at least one character that is neither a line
    # terminator nor (ASCII) whitespace.
    r"^(?!\s*$).+": (
        f"^[^{JAVA_LINE_END}]*[^ \\t\\x0B\\x0C{JAVA_LINE_END}][^{JAVA_LINE_END}]*$"
    ),
}


def translate(pattern):
    """Java pattern -> (rust regex or None, reason when None)."""
    if pattern in HAND_TRANSLATED:
        return HAND_TRANSLATED[pattern], None
    for construct, name in (("(?!", "negative lookahead"), ("(?=", "lookahead"),
                            ("(?<", "lookbehind"), ("\\Q", "quoting"), ("\\G", "\\G"),
                            ("\\b", "word boundary"), ("\\p{java", "java class")):
        if construct in pattern:
            return None, f"{name} is not supported by the regex crate"
    out = []
    in_class = False
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern):
            nxt = pattern[i + 1]
            ascii_class = {"w": "[:word:]", "d": "[:digit:]", "s": None}.get(nxt)
            if nxt == "s":
                body = JAVA_SPACE
                out.append(body if in_class else f"[{body}]")
            elif ascii_class:
                out.append(ascii_class if in_class else f"[{ascii_class}]")
            else:
                out.append(pattern[i:i + 2])
            i += 2
            continue
        if c == "[" and not in_class:
            in_class = True
        elif c == "]" and in_class:
            in_class = False
        out.append(c)
        i += 1
    # Java's matches(): the whole value must match.
    return "^(?:" + "".join(out) + ")$", None


def implemented_operations():
    text = open(OPS_FILE, encoding="utf-8").read()
    block = text.split("pub const OPERATIONS", 1)[1]
    return sorted(set(re.findall(r'name: "(\w+)"', block)))


def rust_str(s):
    """A Rust string literal holding s."""
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def opt(v):
    return "None" if v is None else f"Some({v})"


def generate():
    model = create_loader().load_service_model("ssm", "service-2")
    shapes = model["shapes"]
    ops = implemented_operations()
    missing = [o for o in ops if o not in model["operations"]]
    if missing:
        sys.exit(f"operations not in botocore's SSM model: {missing}")

    reachable = set()

    def walk(name):
        if name in reachable:
            return
        reachable.add(name)
        s = shapes[name]
        for m in s.get("members", {}).values():
            walk(m["shape"])
        if "member" in s:
            walk(s["member"]["shape"])
        if "key" in s:
            walk(s["key"]["shape"])
            walk(s["value"]["shape"])

    inputs = {o: model["operations"][o]["input"]["shape"] for o in ops}
    for shape in inputs.values():
        walk(shape)
    names = sorted(reachable)
    index = {n: i for i, n in enumerate(names)}

    lines = []
    skipped = []
    for n in names:
        s = shapes[n]
        t = s["type"]
        sensitive = "true" if s.get("sensitive") else "false"
        if t == "string":
            pattern = "None"
            if "pattern" in s:
                rust, reason = translate(s["pattern"])
                if rust is None:
                    skipped.append((n, s["pattern"], reason))
                pattern = (f"Some(Pattern {{ aws: {rust_str(s['pattern'])}, "
                           f"rust: {opt(rust_str(rust)) if rust else 'None'}, "
                           f"skipped: {opt(rust_str(reason)) if reason else 'None'} }})")
            enum = ", ".join(rust_str(v) for v in s.get("enum", []))
            kind = (f"Kind::String {{ min: {opt(s.get('min'))}, max: {opt(s.get('max'))}, "
                    f"pattern: {pattern}, enumeration: &[{enum}] }}")
        elif t in ("integer", "long"):
            kind = f"Kind::Number {{ min: {opt(s.get('min'))}, max: {opt(s.get('max'))} }}"
        elif t == "blob":
            # Base64 text on the wire; its limits count decoded bytes, which no operation Bosun
            # serves needs (the one blob, a Lambda task's Payload, is refused by the handler).
            kind = "Kind::String { min: None, max: None, pattern: None, enumeration: &[] }"
        elif t == "boolean":
            kind = "Kind::Boolean"
        elif t == "timestamp":
            kind = "Kind::Timestamp"
        elif t == "list":
            kind = (f"Kind::List {{ member: {index[s['member']['shape']]}, "
                    f"min: {opt(s.get('min'))}, max: {opt(s.get('max'))} }}")
        elif t == "map":
            kind = (f"Kind::Map {{ key: {index[s['key']['shape']]}, "
                    f"value: {index[s['value']['shape']]}, "
                    f"min: {opt(s.get('min'))}, max: {opt(s.get('max'))} }}")
        elif t == "structure":
            required = set(s.get("required", []))
            members = ", ".join(
                f"Member {{ name: {rust_str(mn)}, shape: {index[m['shape']]}, "
                f"required: {'true' if mn in required else 'false'} }}"
                for mn, m in s.get("members", {}).items())
            kind = f"Kind::Structure {{ members: &[{members}] }}"
        else:
            sys.exit(f"shape {n}: type {t} is not handled by the generator")
        lines.append(f"    /* {index[n]} */ Shape {{ name: {rust_str(n)}, sensitive: {sensitive}, "
                     f"kind: {kind} }},")

    out = [
        "//! GENERATED by `tools/gen-ssm-model.py` from botocore's SSM model "
        "(`ssm/2014-11-06/service-2.json`): do not edit.",
        "//!",
        "//! Regenerate with `python3 tools/gen-ssm-model.py` (after adding an operation to",
        "//! `bosun-server`'s `ops::OPERATIONS`, or when botocore's model changes); the test",
        "//! `model::tests::generated_file_is_current` fails while this file is out of date.",
        "//! The input shapes of the operations Bosun serves, indexed by position in `SHAPES`.",
        "",
        "use super::shapes::{Kind, Member, Pattern, Shape};",
        "",
        f"/// The botocore release this file was generated from.",
        f"pub const BOTOCORE_VERSION: &str = {rust_str(BOTOCORE_VERSION)};",
        "",
        "/// Each implemented operation and the index of its input shape in `SHAPES`.",
        "pub static OPERATIONS: &[(&str, usize)] = &[",
    ]
    out += [f"    ({rust_str(o)}, {index[inputs[o]]})," for o in ops]
    out += ["];", "", "/// Patterns the `regex` crate cannot evaluate: (shape, pattern, reason).",
            "#[rustfmt::skip]",
            "pub static SKIPPED_PATTERNS: &[(&str, &str, &str)] = &["]
    out += [f"    ({rust_str(a)}, {rust_str(b)}, {rust_str(c)})," for a, b, c in skipped]
    out += ["];", "", "#[rustfmt::skip]", "pub static SHAPES: &[Shape] = &["]
    out += lines
    out += ["];", ""]
    return "\n".join(out)


def strip_version(text):
    return re.sub(r'pub const BOTOCORE_VERSION: &str = "[^"]*";', "", text)


def main():
    text = generate()
    if "--stdout" in sys.argv:
        sys.stdout.write(text)
    elif "--check" in sys.argv:
        current = open(OUT_FILE, encoding="utf-8").read() if os.path.exists(OUT_FILE) else ""
        if strip_version(current) != strip_version(text):
            sys.stderr.write(
                f"{OUT_FILE} is not what botocore {BOTOCORE_VERSION} generates; "
                "run `python3 tools/gen-ssm-model.py` and commit the result\n")
            sys.exit(1)
    else:
        os.makedirs(os.path.dirname(OUT_FILE), exist_ok=True)
        with open(OUT_FILE, "w", encoding="utf-8") as f:
            f.write(text)


if __name__ == "__main__":
    main()
