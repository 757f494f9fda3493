"""Which comment syntax a file has: its language as `identify` (pre-commit's file
identification) names it from the file name, else from the file's shebang.

`identify` is kept up to date by others, so a new kind of file comes free with its updates;
all that is kept here is the small map from its language tags to comment syntaxes, and a few
names it does not know yet (`GAPS_BY_EXTENSION`, `GAPS_BY_INTERPRETER`: Perl's `.perl`, Tcl).
"""

from __future__ import annotations

from io import BytesIO

from identify.identify import parse_shebang, tags_from_filename, tags_from_interpreter

from leviathan_local.discovery.comments import Syntax

PROSE = ""  # the language of a file known to have no comment syntax discovery reads (text, JSON, images)

_C = Syntax(("//",), (("/*", "*/"),), ('"', "'"))
_JS = Syntax(("//",), (("/*", "*/"),), ('"', "'", "`"))
_HASH = Syntax(("#",), (), ('"""', "'''", '"', "'"))
_SHELL = Syntax(("#",), (), ('"', "'"), marker_needs_space=True)
_INI = Syntax(("#", ";"), (), ('"', "'"), marker_needs_space=True)
_MARKUP = Syntax((), (("<!--", "-->"),), ())
_DASH = Syntax(("--",), (("/*", "*/"),), ("'", '"'))
_HASKELL = Syntax(("--",), (("{-", "-}"),), ('"',))
_LISP = Syntax((";",), (), ('"',))
_PERCENT = Syntax(("%",), (), ())
_ML = Syntax((), (("(*", "*)"),), ('"',))

# identify's language tags (and the few of GAPS_*) -> comment syntax. Tags a name has besides
# its language (`text`, `header`, `image`) are not listed; no two listed tags of one file may
# map to different syntaxes (a test checks identify's tables for that).
SYNTAX_BY_TAG: dict[str, Syntax] = {
    **dict.fromkeys(("c", "c++", "c#", "objective-c", "objective-c++", "cuda", "java", "kotlin", "scala", "swift",
                     "dart", "groovy", "proto", "php", "solidity", "vala", "verilog", "system-verilog", "css",
                     "scss", "less", "zig", "hlsl", "metal", "thrift", "jsonnet"), _C),
    **dict.fromkeys(("javascript", "jsx", "ts", "tsx", "go"), _JS),
    "rust": Syntax(("//",), (("/*", "*/"),), ('"',)),  # ' also marks lifetimes in Rust
    **dict.fromkeys(("python", "pyi", "cython", "ruby", "perl", "r", "julia", "nim", "cmake", "bazel", "crystal",
                     "elixir", "coffee", "gdscript"), _HASH),
    **dict.fromkeys(("shell", "fish", "powershell", "makefile", "dockerfile", "terraform", "hcl", "awk", "tcl",
                     "expect", "meson", "nix", "m4", "puppet", "nushell", "spec", "pkgbuild", "bitbake", "graphql",
                     "pofile", "gitignore", "gitattributes", "dockerignore", "npmignore", "prettierignore",
                     "mailmap", "yaml", "toml", "dotenv", "java-properties"), _SHELL),
    **dict.fromkeys(("ini", "gitconfig", "gitmodules", "editorconfig", "hgrc"), _INI),
    **dict.fromkeys(("markdown", "html", "xml", "svg", "vue", "svelte", "xhtml"), _MARKUP),
    **dict.fromkeys(("sql", "lua", "luau", "ada", "vhdl"), _DASH),
    **dict.fromkeys(("haskell", "elm", "purescript", "idris"), _HASKELL),
    **dict.fromkeys(("lisp", "clojure", "clojurescript", "scheme", "asm"), _LISP),
    **dict.fromkeys(("tex", "erlang"), _PERCENT),
    "ocaml": _ML,
    "fortran": Syntax(("!",), (), ('"', "'")),
}
# What identify (2.6) does not name yet. Tags of our own (`tcl`, `ada`, `lisp`) where it has none.
GAPS_BY_EXTENSION = {"perl": "perl", "tcl": "tcl", "tk": "tcl", "pot": "pofile", "mts": "ts", "cts": "ts",
                     "ksh": "shell", "cfg": "ini", "conf": "ini", "dockerfile": "dockerfile", "ada": "ada",
                     "adb": "ada", "ads": "ada", "el": "lisp", "lisp": "lisp"}
GAPS_BY_INTERPRETER = {"tclsh": "tcl", "wish": "tcl"}
# Tags that say nothing about a language: a name with only these leaves the shebang to decide.
_NOT_A_LANGUAGE = frozenset(("text",))


def language_from_name(path: str) -> str | None:
    """The language tag of ``path`` by its name: PROSE when the name is known but has no comment
    syntax here; None when the name does not tell (no extension, or one nobody knows)."""
    name = path.rsplit("/", 1)[-1]
    tags = tags_from_filename(name)
    language = _language(tags)
    if language:
        return language
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if extension in GAPS_BY_EXTENSION:
        return GAPS_BY_EXTENSION[extension]
    return None if tags <= _NOT_A_LANGUAGE else PROSE


def language_from_shebang(data: bytes) -> str:
    """The language tag of a script by its `#!` line (read whatever the file's mode: a hook
    template is committed without its executable bit); PROSE when there is none known."""
    if not data.startswith(b"#!"):
        return PROSE
    command = parse_shebang(BytesIO(data[:data.find(b"\n") + 1 or len(data)]))
    if not command:
        return PROSE
    interpreter = command[0].rpartition("/")[2]
    return GAPS_BY_INTERPRETER.get(interpreter) or _language(tags_from_interpreter(interpreter)) or PROSE


def language_of(path: str, data: bytes) -> str:
    """The language tag of the file ``path`` holding ``data``: by its name, else its shebang."""
    language = language_from_name(path)
    return language_from_shebang(data) if language is None else language


def syntax_of(language: str) -> Syntax | None:
    """The comment syntax of a language tag; None for PROSE."""
    return SYNTAX_BY_TAG.get(language)


def _language(tags: set[str]) -> str:
    """The tag of ``tags`` that has a comment syntax (the least, when several: the same every time)."""
    found = [tag for tag in tags if tag in SYNTAX_BY_TAG]
    return min(found) if found else PROSE
