"""The prompt policy: subjects storyreel refuses to generate, checked on every prompt before any generation.

The default list covers real, named public figures (a short illustrative
list: the policy cannot know every name, so it is a guard-rail, not a
guarantee) and election content (candidates, ballots, voting). A policy file
changes it, given as `--policy FILE` or the environment variable
STORYREEL_POLICY:

Plain text, one entry per line (`#` starts a comment)::

    # refuse these as well as the defaults
    acme corp
    re:\\bagent \\d{3}\\b      # a regular expression
    !president*               # allow a default term
    !defaults                 # drop the whole default list

or YAML::

    defaults: true            # keep the default list (the default)
    refuse: [acme corp, "re:\\bagent \\d{3}\\b"]
    allow: ["president*"]

A term matches whole words, case-insensitively, with any run of spaces or
punctuation between its words; a trailing `*` matches any word ending
("election*" matches "elections", "electioneering"). `re:` entries are
Python regular expressions, matched case-insensitively.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ..errors import StoryreelError

ENV = "STORYREEL_POLICY"

DEFAULT_TERMS: dict[str, tuple[str, ...]] = {
    "elections and political campaigns": (
        "election*", "electoral", "ballot*", "candidate*", "vote for", "voting", "voter*", "polling station*",
        "campaign rally", "campaign poster*", "president*", "presidency", "prime minister*", "senator*",
        "congressman", "congresswoman", "governor*", "mayor*", "political party", "referendum*",
    ),
    "a real, named public figure": (
        "donald trump", "trump", "joe biden", "biden", "kamala harris", "barack obama", "obama", "hillary clinton",
        "vladimir putin", "putin", "xi jinping", "volodymyr zelensky", "zelenskyy", "narendra modi", "emmanuel macron",
        "keir starmer", "rishi sunak", "olaf scholz", "benjamin netanyahu", "king charles", "pope francis",
        "elon musk", "mark zuckerberg", "taylor swift", "beyonce", "beyoncé", "oprah winfrey",
    ),
}


@dataclass(frozen=True)
class Rule:
    term: str  # as written (for messages)
    reason: str
    pattern: re.Pattern


@dataclass
class Policy:
    """Refused subjects, each a compiled rule with the reason shown when it matches."""

    rules: list[Rule] = field(default_factory=list)
    source: str = "default"

    def match(self, text: str) -> Rule | None:
        """The first rule that matches `text`, or None."""
        for rule in self.rules:
            if rule.pattern.search(text):
                return rule
        return None

    def matches(self, text: str) -> list[tuple[str, Rule]]:
        """(the words matched, rule) for every rule that matches `text`, in the order they appear in it."""
        found = [(m.start(), m.group(0), r) for r in self.rules if (m := r.pattern.search(text))]
        return [(words, rule) for _, words, rule in sorted(found, key=lambda f: f[0])]

    def describe(self) -> dict:
        return {"source": self.source, "rules": len(self.rules)}


def compile_term(term: str) -> re.Pattern:
    """A policy term -> a case-insensitive regex (see module docstring)."""
    if term.startswith("re:"):
        return re.compile(term[3:].strip(), re.IGNORECASE)
    words = re.findall(r"[^\W_]+\*?", term.lower())
    if not words:
        raise ValueError(f"policy term {term!r} has no words")
    parts = [re.escape(w[:-1]) + r"\w*" if w.endswith("*") else re.escape(w) for w in words]
    return re.compile(r"(?<!\w)" + r"[\W_]+".join(parts) + r"(?!\w)", re.IGNORECASE)


def _rule(term: str, reason: str, where: str) -> Rule:
    try:
        return Rule(term, reason, compile_term(term))
    except (re.error, ValueError) as e:
        raise StoryreelError(f"bad policy entry {term!r}: {e}", file=where) from None


def default_policy() -> Policy:
    return Policy([Rule(t, reason, compile_term(t)) for reason, terms in DEFAULT_TERMS.items() for t in terms])


def _parse(path: Path) -> tuple[bool, list[str], list[str]]:
    """(keep defaults, refused terms, allowed default terms) from a policy file."""
    try:
        text = path.read_text()
    except OSError as e:
        raise StoryreelError(f"cannot read the policy file ({e.strerror or e})", file=str(path), field="--policy") from None
    if path.suffix.lower() in {".yaml", ".yml"}:
        try:
            data = yaml.safe_load(text) or {}
        except yaml.YAMLError as e:
            line = getattr(getattr(e, "problem_mark", None), "line", None)
            raise StoryreelError(f"invalid YAML: {getattr(e, 'problem', e)}", file=str(path),
                                 line=None if line is None else line + 1) from None
        if isinstance(data, list):
            data = {"refuse": data}
        if not isinstance(data, dict) or set(data) - {"defaults", "refuse", "allow"}:
            raise StoryreelError("a YAML policy is a mapping with keys defaults, refuse and allow (or a list of terms)",
                                 file=str(path))
        refuse, allow = data.get("refuse") or [], data.get("allow") or []
        if not isinstance(refuse, list) or not isinstance(allow, list) or not all(
                isinstance(t, str) for t in [*refuse, *allow]):
            raise StoryreelError("refuse and allow must be lists of terms (strings)", file=str(path))
        return bool(data.get("defaults", True)), refuse, allow
    keep, refuse, allow = True, [], []
    for raw in text.splitlines():
        line = raw.split(" #", 1)[0].strip() if not raw.lstrip().startswith("#") else ""
        if not line:
            continue
        if line == "!defaults":
            keep = False
        elif line.startswith("!"):
            allow.append(line[1:].strip())
        else:
            refuse.append(line)
    return keep, refuse, allow


def load_policy(path: str | os.PathLike | None = None) -> Policy:
    """The policy from `path`, else from $STORYREEL_POLICY, else the default list."""
    path = path or os.environ.get(ENV) or None
    if path is None:
        return default_policy()
    path = Path(path)
    if not path.is_file():
        raise StoryreelError("policy file not found", file=str(path), field="--policy")
    keep, refuse, allow = _parse(path)
    allowed = {a.strip().lower() for a in allow}
    rules = [r for r in default_policy().rules if r.term not in allowed] if keep else []
    rules += [_rule(t.strip(), "refused by the policy file", str(path)) for t in refuse if t.strip()]
    return Policy(rules, source=str(path))


def _reasons(found: list[tuple[str, Rule]]) -> str:
    """'"Kamala Harris" (a real, named public figure), "campaign rally" (elections ...)'."""
    return ", ".join(f'"{words}" ({rule.reason})' for words, rule in found)


def check_prompt(text: str, policy: Policy | None = None, *, what: str = "the prompt") -> None:
    """Raise StoryreelError (exit 2) if `text` names a refused subject."""
    policy = policy or load_policy()
    found = policy.matches(text)
    if found:
        raise StoryreelError(f"{what} is refused by the prompt policy ({policy.source}): {_reasons(found)}; "
                             "nothing was generated")


def check_plan(plan, policy: Policy | None = None) -> None:
    """Check every shot's full prompt; raise StoryreelError naming the first refused shot (and the others)."""
    policy = policy or load_policy()
    refused = [(shot, found) for shot in plan.shots if (found := policy.matches(shot.prompt))]
    if not refused:
        return
    shot, found = refused[0]
    more = ""
    if len(refused) > 1:
        more = f"; also refused: shot{'s' if len(refused) > 2 else ''} " + ", ".join(str(s.index + 1) for s, _ in refused[1:])
    raise StoryreelError(f"shot {shot.index + 1} is refused by the prompt policy ({policy.source}): {_reasons(found)}"
                         f"{more}; nothing was generated")
