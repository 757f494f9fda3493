"""Where the comments are in a source file, by language, with strings told apart.

A small lexer per comment syntax: line markers (`#`, `//`, `--`, `;`, `%`), block pairs
(`/* */`, `<!-- -->`, `{- -}`) and the string quotes that can hide a marker. It is only run
on files that contain a tag at all, so it can afford to be plain Python.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple


class Syntax(NamedTuple):
    line: tuple[str, ...] = ()
    block: tuple[tuple[str, str], ...] = ()
    strings: tuple[str, ...] = ()  # quote delimiters; triple quotes span lines
    marker_needs_space: bool = False  # `#` starts a comment only at a word boundary (shell, YAML)


class CommentLine(NamedTuple):
    line: int  # 1-based
    text: str  # the comment's text on this line, markers removed
    group: int  # lines of one block comment share a group
    whole_line: bool  # nothing but the comment on this line
    column: int  # where the comment's text starts


_C = Syntax(("//",), (("/*", "*/"),), ('"', "'"))
_JS = Syntax(("//",), (("/*", "*/"),), ('"', "'", "`"))
_HASH = Syntax(("#",), (), ('"""', "'''", '"', "'"))
_SHELL = Syntax(("#",), (), ('"', "'"), marker_needs_space=True)
_CONFIG = Syntax(("#",), (), ('"', "'"), marker_needs_space=True)
_MARKUP = Syntax((), (("<!--", "-->"),), ())
_DASH = Syntax(("--",), (("/*", "*/"),), ("'", '"'))
SYNTAX_BY_EXTENSION: dict[str, Syntax] = {
    **dict.fromkeys(("c", "h", "cc", "cpp", "cxx", "hpp", "hh", "hxx", "m", "mm", "java", "kt", "kts", "scala",
                     "cs", "swift", "dart", "groovy", "gradle", "proto", "php"), _C),
    **dict.fromkeys(("js", "jsx", "mjs", "cjs", "ts", "tsx", "mts", "cts", "go"), _JS),
    "rs": Syntax(("//",), (("/*", "*/"),), ('"',)),  # ' also marks lifetimes in Rust
    **dict.fromkeys(("py", "pyi", "pyx", "rb", "pl", "pm", "r", "jl", "nim", "cmake"), _HASH),
    **dict.fromkeys(("sh", "bash", "zsh", "fish", "ksh", "ps1", "mk", "tf", "hcl"), _SHELL),
    **dict.fromkeys(("yaml", "yml", "toml", "cfg", "conf", "ini", "properties", "env", "dockerfile"), _CONFIG),
    **dict.fromkeys(("md", "markdown", "html", "htm", "xml", "svg", "vue", "svelte", "xhtml"), _MARKUP),
    **dict.fromkeys(("sql", "lua", "ada"), _DASH),
    "hs": Syntax(("--",), (("{-", "-}"),), ('"',)),
    **dict.fromkeys(("css", "scss", "less"), Syntax(("//",), (("/*", "*/"),), ('"', "'"))),
    **dict.fromkeys(("el", "lisp", "clj", "cljs", "scm", "asm", "s"), Syntax((";",), (), ('"',))),
    **dict.fromkeys(("tex", "erl", "hrl"), Syntax(("%",), (), ())),
}
SYNTAX_BY_NAME: dict[str, Syntax] = {
    **dict.fromkeys(("Makefile", "makefile", "GNUmakefile", "Dockerfile", "Containerfile", "Jenkinsfile",
                     "Vagrantfile", "Rakefile", "Gemfile", "CMakeLists.txt", ".gitignore", ".gitattributes",
                     ".dockerignore", ".editorconfig", ".bashrc", ".zshrc", ".profile"), _SHELL),
}


def syntax_for(path: str) -> Syntax | None:
    """The comment syntax of ``path`` by name or extension; None for prose and unknown kinds."""
    name = path.rsplit("/", 1)[-1]
    if name in SYNTAX_BY_NAME:
        return SYNTAX_BY_NAME[name]
    if "." not in name:
        return None
    return SYNTAX_BY_EXTENSION.get(name.rsplit(".", 1)[-1].lower())


@lru_cache(maxsize=32)
def _token_pattern(syntax: Syntax) -> re.Pattern[str]:
    openers = [*syntax.strings, *(start for start, _ in syntax.block), *syntax.line, "\n"]
    ordered = sorted(set(openers), key=len, reverse=True)  # `"""` before `"`, `<!--` before `<`
    return re.compile("|".join(map(re.escape, ordered)))


def comment_lines(text: str, syntax: Syntax) -> list[CommentLine]:
    """Every line's comment text, in order."""
    found: list[CommentLine] = []
    pattern = _token_pattern(syntax)
    block_ends = dict(syntax.block)
    position, line, line_start, group = 0, 1, 0, 0
    while True:
        match = pattern.search(text, position)
        if match is None:
            return found
        token, start = match.group(), match.start()
        if token == "\n":
            position, line, line_start = match.end(), line + 1, match.end()
        elif token in syntax.strings:
            position, line, line_start = _skip_string(text, match.end(), token, line, line_start)
        elif token in block_ends:
            group += 1
            position, line, line_start = _block(text, match.end(), block_ends[token], line, line_start,
                                                group, found, text[line_start:start].strip() == "")
        elif syntax.marker_needs_space and start > line_start and not text[start - 1].isspace():
            position = match.end()  # `$#`, `a#b`: not a comment
        else:
            end = text.find("\n", start)
            end = len(text) if end < 0 else end
            group += 1
            found.append(CommentLine(line, text[match.end():end].rstrip("\r"), group,
                                     text[line_start:start].strip() == "", match.end() - line_start))
            position = end


def _skip_string(text: str, position: int, quote: str, line: int, line_start: int) -> tuple[int, int, int]:
    multiline = len(quote) == 3 or quote == "`"
    while position < len(text):
        char = text[position]
        if char == "\\":
            position += 2
            continue
        if text.startswith(quote, position):
            return position + len(quote), line, line_start
        if char == "\n":
            if not multiline:
                return position, line, line_start  # an unclosed string ends with its line
            line, line_start = line + 1, position + 1
        position += 1
    return position, line, line_start


def _block(text: str, position: int, closer: str, line: int, line_start: int, group: int,
           found: list[CommentLine], alone: bool) -> tuple[int, int, int]:
    end = text.find(closer, position)
    stop = len(text) if end < 0 else end
    while True:
        newline = text.find("\n", position, stop)
        chunk_end = stop if newline < 0 else newline
        found.append(CommentLine(line, text[position:chunk_end].rstrip("\r"), group, alone,
                                 position - line_start))
        if newline < 0:
            break
        position, line, line_start, alone = newline + 1, line + 1, newline + 1, True
    return (len(text) if end < 0 else end + len(closer)), line, line_start
