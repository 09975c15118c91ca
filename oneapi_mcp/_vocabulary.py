"""What a request means in API words: console terms, product names and intents (specs/overlays/vocabulary.yaml).

`Vocabulary.read(text)` turns "push my pending internet access changes live" into a `Reading`: the
services it names (zia), the kind of operation it asks for (activate), and weighted search terms
(`pending`, `change`, ... plus the API words its console phrases map to). Typos are corrected against
the words the operations use (one edit, words of five letters or more).
"""

from __future__ import annotations

import bisect
import itertools
import re
from dataclasses import dataclass, field
from functools import cache, lru_cache
from importlib import resources

import yaml

__all__ = ["INTENTS", "Reading", "Speller", "Vocabulary", "load_vocabulary", "product_names", "stem", "tokens"]

INTENTS = ("count", "delete", "activate", "create", "update", "get", "list")
ORIGINAL, MAPPED, CONSUMED, CORRECTED, VERB = 1.0, 1.0, 0.2, 0.8, 0.5  # a term's weight by where it came from
SITE = 0.5  # "url" for a host name or URL the request gives
MENU = 0.35  # a word of the console menu path before the page ("Administration > ...")


@lru_cache(maxsize=20_000)
def stem(word: str) -> str:
    """A light stemmer: plurals and -ed/-ing/-ation, so activate/activated/activation meet; British spellings as
    American ones."""
    if len(word) <= 3 or word.isdigit():
        return word
    word = _BRITISH_CE.sub(r"\1nse", word)  # licence/license, defence/defense
    british = word.endswith(("ise", "ised", "ises", "ising", "isation", "isations", "yse", "ysed", "yses", "ysing"))
    if word.endswith("ies") and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith(("sses", "xes", "ches", "shes")):
        word = word[:-2]
    elif word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    for suffix in ("ation", "ing", "ed"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            word = word[: -len(suffix)]
            break
    if word.endswith("e") and len(word) > 4:
        word = word[:-1]
    if word.endswith(("is", "ys")) and len(word) > 5 and british:
        word = word[:-1] + "z"  # organisation/organization, categorised/categorized, analyse/analyze meet
    return word


_BRITISH_CE = re.compile(r"(lice|fe)nce(?=s?$)")
_CAMEL, _ACRONYM, _SEPARATORS = re.compile(r"([a-z\d])([A-Z])"), re.compile(r"([A-Z]+)([A-Z][a-z])"), re.compile(
    r"[^a-z0-9]+")
_PLURAL_ACRONYM = re.compile(r"\b([A-Z]{2,})s\b")  # "static IPs", "URLs": one word, not "UR Ls"
_POSSESSIVE = re.compile(r"(?<=\w)['\u2019]s\b")  # "bob's profile": bob, not bob + s
_VERSIONED = re.compile(r"([A-Z]{2,})v(\d)")  # "IPv6" is one word, not "I Pv6"
# "Policy > Firewall Control > DNS Control": the console's menu path; the last step names the page
_BREADCRUMB = re.compile(r"\s*>\s*")
# a host name, URL or domain, defanged or not ("evil-updates.com", "hxxps://secure-docu-sign[.]top/login"): its words
# name a site, not an operation; a known top-level domain ends it, so a file ("invoice.docm", "setup.exe"), a login
# name ("mario.rossi") or an e-mail address is none
_HOST = re.compile(r"(?<![\w@.\[-])(?:h[tx]{2}ps?://)?(?:\*\.)?(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.|\[\.\]))+"
                   r"(?!(?:py|sh|js|gz|md|rb|pl|ps|cs|ts)\b)"  # files
                   r"(?:[a-z]{2}|com|net|org|edu|gov|mil|int|info|biz|xyz|top|"
                   r"site|online|club|app|dev|cloud|local|corp|internal|lan|live|shop|store|tech|link|click|page|blog|"
                   r"news|login|email|icu|vip|win|host|space|website|pro|asia|mobi|onion|example|test|localhost)"
                   r"(?![\w@-])(?::\d+)?(?:/[^\s,;'\"]*)?", re.I)
# a request's clauses: "SOC ask: are ... blocked", "..., where do I get it"
_CLAUSES = re.compile(r"[,:;?!()]|\s-+\s")


def tokens(text: str) -> list[str]:
    """`ListURLCategories user_groups` -> ['list', 'url', 'categories', 'user', 'groups'] (not stemmed)."""
    text = _POSSESSIVE.sub("", text)
    text = _PLURAL_ACRONYM.sub(lambda m: m[1].lower() + "s", _VERSIONED.sub(lambda m: f" {m[1].lower()}v{m[2]}", text))
    text = _CAMEL.sub(r"\1 \2", _ACRONYM.sub(r"\1 \2", text))
    return [w for w in _SEPARATORS.split(text.lower()) if w]


def _deletes(word: str) -> set[str]:
    return {word[:i] + word[i + 1:] for i in range(len(word))}


@dataclass
class Reading:
    """A request as search reads it."""

    services: list[str] = field(default_factory=list)
    hinted: list[str] = field(default_factory=list)  # services a product's own console word points to ("app segment")
    intent: str | None = None
    terms: dict[str, float] = field(default_factory=dict)  # stemmed term -> weight
    corrected: dict[str, str] = field(default_factory=dict)  # typed word -> the word searched
    mapped: dict[str, list[str]] = field(default_factory=dict)  # a console word's stem -> the API words it stood for
    names_one: bool = False  # an id, a quoted name, "this", "a specific": one object, which a `get` answers
    head: frozenset[str] = frozenset()  # the noun the request is about ("users" in "users in the HR group")
    qualifier: frozenset[str] = frozenset()  # what the head is for ("app connectors" of "keys for app connectors")
    container: frozenset[str] = frozenset()  # a named object the head is in ("servers behind the SAP-Prod group")
    site: bool = False  # a host name, domain or URL named ("is evil-updates.com blocked")
    window: bool = False  # a time window ("yesterday", "last 7 days", "since monday"): data over time, not settings
    inflected: set[str] = field(default_factory=set)  # stems typed with -ing or -ed ("carrying"): verbs, not names

    def add(self, term: str, weight: float) -> None:
        self.terms[term] = max(weight, self.terms.get(term, 0.0))


class Speller:
    """Corrects a word to the most common indexed word one edit away (words of five letters or more)."""

    def __init__(self, df: dict[str, int]):
        self.df = df
        self._sorted: list[str] | None = None
        self._by_delete: dict[str, set[str]] = {}
        for word in df:
            if len(word) >= 4 and not word.isdigit():
                for d in _deletes(word) | {word}:
                    self._by_delete.setdefault(d, set()).add(word)

    def correct(self, word: str) -> str | None:
        """None when the word is known (or too short to judge); the stemmed correction otherwise."""
        base = stem(word)
        if len(word) < 5 or base in self.df or base.isdigit():  # "sent" is a word, not a typo of "sett"
            return None
        if self._begins(word):
            return None  # "regen" is short for regenerate, not a typo of "regex": search matches it as a beginning
        found: set[str] = set()
        for d in _deletes(base) | {base}:
            found |= self._by_delete.get(d, set())
        return max(sorted(w for w in found if _a_typo_of(base, w)), key=lambda w: self.df[w], default=None)

    def _begins(self, word: str) -> bool:
        if self._sorted is None:
            self._sorted = sorted(self.df)
        at = bisect.bisect_left(self._sorted, word)  # a letter more is a letter dropped: "firewal"
        for known in itertools.islice(self._sorted, at, None):
            if not known.startswith(word):
                return False
            if len(known) > len(word) + 1:
                return True
        return False

    def split(self, word: str) -> tuple[str, str] | None:
        """An unknown compound as two indexed words ("deeptrace" -> deep, trace; "appconnector"), or None."""
        if len(word) < 7 or stem(word) in self.df or word.isdigit():
            return None
        splits = [(word[:i], word[i:]) for i in range(3, len(word) - 2)]
        known = [(a, b) for a, b in splits if stem(a) in self.df and stem(b) in self.df]
        return max(known, key=lambda ab: min(self.df[stem(ab[0])], self.df[stem(ab[1])]), default=None)


_VOWELS = set("aeiou")


def _a_typo_of(typed: str, known: str) -> bool:
    """Whether `typed` is `known` mistyped, not another word: one letter left out, doubled or added, two swapped, or
    one vowel for another in a long word ("catagory", "connecter"), the first letter kept. Another consonant or first
    letter usually makes a different real word ("stale" is not "stage", "retail" not "detail", "logic" not "login")."""
    if typed == known or (typed[:1] != known[:1] and typed[1:] != known):  # a letter before it: "zidentity"
        return False
    if len(typed) != len(known):
        short, long_ = sorted((typed, known), key=len)
        return len(long_) - len(short) == 1 and any(long_[:i] + long_[i + 1:] == short for i in range(len(long_)))
    diff = [i for i, (a, b) in enumerate(zip(typed, known, strict=True)) if a != b]
    if len(diff) == 2:
        i, j = diff
        return j == i + 1 and typed[i] == known[j] and typed[j] == known[i]
    return len(diff) == 1 and len(typed) >= 7 and {typed[diff[0]], known[diff[0]]} <= _VOWELS


def product_names(rows) -> dict[str, list[str]]:
    """Each service's own names from the services table: its id, short name and product name ("zbi", "ZBI",
    "Business Insights", "Zscaler Business Insights"), so a new spec is found by name without a vocabulary edit.
    A one-word product name that is also an everyday word ("Identity", "Cellular") is only kept with "Zscaler"."""
    names: dict[str, list[str]] = {}
    for row in rows:
        product = _TITLE.sub("", row.title).strip()
        own = [row.name, row.short, f"zscaler {product}", f"zscaler {row.short}"]
        if len(tokens(product)) > 1 or product.lower() == row.short.lower():
            own.append(product)
        names[row.name] = own
    return names


# "Zscaler Business Insights (ZBI) through Zscaler OneAPI" -> "Business Insights"
_TITLE = re.compile(r"^Zscaler\s+|\s*\([^)]*\)|\s+through Zscaler OneAPI$")


class Vocabulary:
    def __init__(self, data: dict, products: dict[str, list[str]] | None = None):
        self.services: dict[tuple[str, ...], str] = {}
        for service, names in [*(products or {}).items(), *(data.get("services") or {}).items()]:
            for name in names:
                self.services[_key(name)] = service
        # a request that names no product most often means the everyday consoles (ZIA, ZPA): service -> weight
        self.prior: dict[str, float] = {k: float(v) for k, v in (data.get("service_prior") or {}).items()}
        # phrases are matched on stems, so "app connector" also reads "app connectors"
        self.terms = {_key(k): [stem(w) for v in vs for w in tokens(v)]
                      for k, vs in (data.get("terms") or {}).items()}
        # a term that maps to a product id ("app segment": [application, zpa]) hints at that product
        ids = set((data.get("services") or {}).keys())
        self.hints = {k: [w for w in ws if w in ids] for k, ws in self.terms.items()}
        self.terms = {k: [w for w in ws if w not in ids] for k, ws in self.terms.items()}
        # verbs that operations are named by (deactivate, regenerate): searched fully even where they say what to do
        self.named_verbs = {stem(w) for w in data.get("named_verbs") or []}
        self.intents = [(intent, [tuple(tokens(p)) for p in (data.get("intents") or {}).get(intent, [])])
                        for intent in INTENTS]
        self.questions = [tuple(tokens(p)) for p in data.get("questions") or []]
        self.stop = {w for w in data.get("stop") or []}
        # "kill switch", "block list": a console noun that starts with a verb (its API words name no action)
        verbish = {stem(w) for _, phrases in self.intents for p in phrases for w in p} | self.named_verbs
        acting = {stem(p[0]) for intent, phrases in self.intents if intent not in ("list", "get", "count")
                  for p in phrases}
        self.who_did = [stem(w) for v in data.get("who_did") or [] for w in tokens(v)]
        self.site_verbs = [stem(w) for w in data.get("site_verbs") or []]
        # verbs that are nouns too ("group", "map", "stream"): a command only where they open the request or a clause
        # ("pull ... into": only with the later word, "pull up the policy" reads)
        self.opening_verbs = {v.split()[0]: (intent, v.split()[-1] if "..." in v else None)
                              for intent, vs in (data.get("opening_verbs") or {}).items() for v in vs}
        self.wishes = [(intent, [tuple(tokens(p)) for p in phrases])
                       for intent, phrases in (data.get("wishes") or {}).items()]
        self.site_words = [stem(w) for v in data.get("site_words") or [] for w in tokens(v)]
        self._acts = {stem(p[0]) for intent, phrases in self.intents if intent not in ("list", "get", "count")
                      for p in phrases if len(p) == 1}  # "created", "disabled": participles of these
        self.noun_phrases = [k for k, ws in self.terms.items()
                             if len(k) > 1 and k[0] in acting and not verbish & (set(ws) - set(k))]
        self._question_words = {w for q in self.questions for w in q}
        self._longest = max([len(k) for k in (*self.services, *self.terms)] or [1])
        self._own_words = {w for k in (*data.get("terms", {}), *(n for ns in data.get("services", {}).values()
                                                                   for n in ns)) for w in tokens(k)} | {
            w for _, phrases in self.intents for p in phrases for w in p} | self.stop

    def _spelled(self, raw: list[str], speller: Speller, reading: Reading, keep: set[str]) -> list[str]:
        out: list[str] = []
        for word in raw:
            if word in keep:  # a word of an object's name ("sales-emea") is not a misspelt API word
                out.append(word)
                continue
            # a word one edit from an indexed one is that word misspelt ("bandwith"), not a compound of two
            parts = None if word in self._own_words or speller.correct(word) else speller.split(word)
            if parts is not None:
                reading.corrected[word] = " ".join(parts)
                out += parts
                continue
            fixed = None if word in self._own_words else speller.correct(word)
            if fixed is not None:
                reading.corrected[word] = fixed
            out.append(fixed or word)
        return out

    def _names(self, text: str, speller: Speller) -> list[tuple[str, ...]]:
        """The hyphen- or slash-joined words that name one object ("PCI-Block", "sales-emea", "dc-east"), as tokens:
        capitalised, or with a part no operation uses; not a compound of API words ("url-filtering", "read-only",
        "allow/block"), a console term ("break-glass"), a number ("70/30") nor a domain's part ("evil-updates.com")."""
        out = [tuple(tokens(m[1])) for m in _QUOTED.finditer(text) if tokens(m[1])]  # "API client 'siem-export'"
        for m in _JOINED.finditer(text):
            parts = tokens(m[0])
            if all(p.isdigit() for p in parts) or tuple(map(stem, parts)) in self.terms:
                continue
            known = all(len(p) <= 3 or p in self._own_words or stem(p) in speller.df for p in parts)
            if not known or any(c.isupper() for c in m[0]):
                out.append(tuple(parts))
        return out

    def read(self, text: str, speller: Speller) -> Reading:
        reading = Reading()
        text, found = _HOST.subn(" ", text)  # "is fr-login-microsoft.top blocked": a site named, not words to search
        hosts = bool(found)
        *menu, page = _BREADCRUMB.split(text.strip())  # menu steps say where, the page what: searched lightly
        page_at = len(tokens(" ".join(menu)))
        names = self._names(page, speller)
        words = _particles_together(self._spelled(tokens(text), speller, reading, {w for n in names for w in n}))
        named_at = {j for n in names for at in _runs(words, n, page_at) for j in range(at, at + len(n))}
        reading.names_one = bool(hosts or _ONE.search(text) or names) or any(w in _THIS_ONE for w in words)
        reading.window = bool(_WINDOW.search(text))
        reading.site = hosts
        starts, at = [page_at], page_at
        if page_at + 1 < len(words) and words[page_at] in _PREPOSITIONS:
            starts.append(page_at + 1)  # "in what order does the cloud firewall evaluate our rules"
        clauses = {page_at}  # where each clause of the page starts: a command may open one
        for n, clause in enumerate(_CLAUSES.split(page)):
            at += len(tokens(clause))
            clauses.add(at)
            if n == 0 and at - page_at <= _LABEL:  # a label: "SOC ask: are ... blocked", "triage: which ..."
                starts.append(at)
        # "before I edit it, show ...": a clause opening with "before" says what comes next, it asks for nothing
        ahead = sorted(clauses)
        aside = {j for at, nxt in itertools.pairwise(ahead) if at < len(words) and words[at] in _PREAMBLES
                 and nxt < len(words) for j in range(at, nxt)}
        # "validate this PAC file before I upload it": a clause of when, inside the command's, asks for nothing
        aside |= {j for i in range(page_at + 1, len(words) - 1) if words[i + 1] in _SOMEBODY and (
                      words[i] in _WHEN or words[i] in _WHETHER and words[i - 1] in _KNOWING)
                  for j in range(i, min(i + 6, next((c for c in ahead if c > i), len(words))))}
        # a write verb right after a word that names something is part of a name: "segment group", "rule label"
        # (but it may end a terse one: "zapp forwarding profile delete")
        after_noun = {i for i in range(page_at + 1, len(words) - 1)
                      if i not in clauses and words[i - 1] not in self.stop and words[i - 1] not in _OPENERS}
        later = [(at, q) for at in range(page_at + 1, len(words)) for q in _LATER_QUESTIONS]
        if any(tuple(words[s:s + len(q)]) == q for s in starts for q in self.questions) or any(
                tuple(words[s:s + len(q)]) == q for s, q in later):
            reading.intent = "list"  # "is there a pending activation", "SOC ask: are ... blocked" ask, not act
        verbs: set[int] = set()  # positions of the words that said what to do: searched lightly
        new_at: set[int] = set()  # where "new" made the request a create: an edit verb later still makes it an update
        stems = [stem(w) for w in words]
        # ... unless it opens the request: "open port 443 to the partner network" is a command
        nouns = {i for i in range(page_at + 1, len(stems))
                 for k in self.noun_phrases if tuple(stems[i:i + len(k)]) == k}
        for intent, phrases in self.intents:
            if reading.intent == "list" and intent not in ("count", "get"):  # a question still reads
                continue
            for p in phrases:
                named = _find_command(words, stems, p, page_at, writes=False, skip=nouns | named_at)
                if named is not None:
                    verbs.update(range(named, named + len(p)))  # even "the block rule" says what to do
                command = _find_command(words, stems, p, page_at, writes=intent in _WRITES,
                                        skip=nouns | named_at | aside | (after_noun if intent in _WRITES else set()))
                if command is not None and intent == "update" and new_at and reading.intent == "create":
                    if p not in _PLAIN_EDITS:
                        continue  # "new ips rule to block smb": the new rule blocks
                    verbs -= new_at  # "the gre tunnel has a new source ip, update it": a new value, edited
                if command is not None:
                    reading.intent = intent
                    verbs.update(range(command, command + len(p)))
                    if intent == "create" and p in _NEW_PHRASES:
                        new_at = set(range(command, command + len(p)))
                    if p in _ADDING and _adds_to_existing(words, command + len(p), self.services,
                                                                self._acts | self.named_verbs | {*self.site_verbs}):
                        reading.intent = "update"  # "add a url to a custom category" changes the category
                    if p == ("make",) and command + 1 < len(words) and words[command + 1] in _DEFINITE:
                        reading.intent = "update"  # "make the Tokyo pse group publicly reachable" changes it
            if reading.intent == "update" or (reading.intent == intent and not new_at) or (
                    new_at and intent == "update"):
                break
        if reading.intent == "activate" and any(words[j] == "publish" and words[j + 1] in ("a", "an", "new")
                                                for j in range(page_at, len(words) - 1)):
            reading.intent = "create"  # "publish an rdp console for the jump host": a new one, nothing pushed live
        if reading.intent == "activate" and "push" in words and _SENT & set(words):
            reading.intent = "create"  # "push the alerts to our log platform" sends data; "push the changes" activates
        if reading.intent == "create" and not new_at:  # "edit the SSL rule 'X' and add the health care category"
            skip = nouns | named_at | aside | after_noun
            creates = next(phrases for intent, phrases in self.intents if intent == "create")
            edited = [c for c in (_find_command(words, stems, p, page_at, writes=True, skip=skip)
                                  for p in _PLAIN_EDITS) if c is not None]
            created = [c for c in (_find_command(words, stems, p, page_at, writes=True, skip=skip)
                                   for p in creates) if c is not None]
            if edited and created and min(edited) < min(created):
                reading.intent = "update"  # what is added goes into the object edited
        for intent, phrases in self.wishes if reading.intent is None else ():
            # "the time interval should end at 7pm", "the old group can go": a change asked for as a wish
            said = [(at, p) for p in phrases for at in _runs(words, p, page_at + 1)]
            if said:
                reading.intent = intent
                verbs.update(j for at, p in said for j in range(at, at + len(p)))
                break
        for at in sorted(clauses) if reading.intent is None else ():
            at = next((j for j in range(at, len(words)) if words[j] not in _OPENERS), len(words))
            opening, needs = self.opening_verbs.get(words[at], (None, None)) if at + 1 < len(words) else (None, None)
            if opening and words[at + 1] not in _MODIFIED and (needs is None or needs in words[at + 2:]):
                reading.intent = opening  # "group the messaging apps into one ...", "IR: ..., cut its outbound"
                verbs.add(at)
                break
        i = 0
        units: list[_Unit] = []  # the request's words and phrases in order, for its head noun
        while i < len(words):
            if i in named_at:  # "the PCI-Block policy": searched lightly, neither a command nor the head noun
                units.append(_Unit(i, 1, (), ()))
                reading.add(stem(words[i]), CONSUMED)
                i += 1
                continue
            for n in range(min(self._longest, len(words) - i), 0, -1):
                key = tuple(stems[i:i + n])
                if key in self.services:
                    if self.services[key] not in reading.services:
                        reading.services.append(self.services[key])
                    units.append(_Unit(i, n, (), (), product=True))
                    break
                if key in self.terms:
                    units.append(_Unit(i, n, tuple(self.terms[key]), tuple(
                        w for w, raw in zip(key, words[i:i + n], strict=True) if raw not in self.stop)))
                    for w, raw in zip(key, words[i:i + n], strict=True):
                        if raw not in self.stop:
                            reading.add(w, CONSUMED)
                    said_what_to_do = any(j in verbs for j in range(i, i + n))  # "turn off" -> deactivate
                    for w in self.terms[key]:
                        reading.add(w, (VERB if said_what_to_do else MAPPED) * (MENU if i < page_at else 1.0))
                    for w, raw in zip(key, words[i:i + n], strict=True):
                        if raw not in self.stop:
                            reading.mapped.setdefault(w, []).extend(self.terms[key])
                    reading.hinted += [h for h in self.hints[key] if h not in reading.hinted]
                    break
            else:
                n = 1
                word = words[i]
                units.append(_Unit(i, 1, (), () if word in self.stop else (stem(word),)))
                if word not in self.stop:
                    weight = CORRECTED if word in reading.corrected.values() else ORIGINAL
                    weight = VERB if i in verbs and stem(word) not in self.named_verbs else weight
                    if word.endswith("ed") and stem(word) in self._acts:
                        weight = CONSUMED  # "users created this week": a participle says when, not which operation
                    weight *= MENU if i < page_at else 1.0
                    reading.add(stem(word), weight)
                    if word.endswith(("ing", "ed")):
                        reading.inflected.add(stem(word))
            i += n
        if hosts:  # a site named: operations on URLs and domains, lightly (ZPA's hosts are its apps' domains too)
            reading.add("url", SITE)
        reading.head = _head(units, words, verbs, page_at)
        phrase = _phrase(units, words, verbs, page_at)
        reading.qualifier = _qualifier(phrase, units, words, verbs, page_at) - reading.head
        # "change the email of a break glass account": the account is changed (but "rotate the secret on API client
        # 55" rotates the secret: a verb operations are named by acts on the phrase it names)
        if reading.intent == "update" and not any(stems[j] in self.named_verbs for j in verbs):
            reading.head = _changed(phrase, units, words, verbs, page_at) or reading.head
        reading.container = _container(
            units, words, named_at | {j for w in _CAPITALISED.findall(page) if w.lower() not in self._own_words
                                      for j in _runs(words, (w.lower(),), page_at + 1)})
        plurals = {fixed for typed, fixed in reading.corrected.items() if _plural(typed)}  # "segmnets"
        made = next((j for j in range(page_at + 1, len(words) - 2) if words[j] == "as" and words[j + 1] in ("a", "an")
                     and j not in named_at), None)
        if reading.intent in (None, "activate") and made is not None and not any(
                w in self._question_words or w in _YES_NO for w in words[page_at:made]):
            # "github's ip ranges as a destination group", "store the rdp password as a privileged credential", "publish
            # ssh on 10.20.0.0/16 as a private app": what it is made into is new, and it is what the request is about
            reading.intent = "create"
            reading.head = _head([u for u in units if u.at > made + 1], words, verbs, page_at) or reading.head
        if reading.intent in (None, "update", "list", "get") and self._labels_a_new_one(page, words, page_at, named_at):
            reading.intent = "create"  # "timeout rule: vendors get logged out after 30 minutes idle"
        if reading.intent == "update" and not any(tuple(words[j:j + len(p)]) in _PLAIN_EDITS for j in verbs
                                                  for p in _PLAIN_EDITS) and _made_with_a_new_one(words, page_at):
            reading.intent = "create"  # "block DNS over HTTPS with a dns control rule": the rule that blocks is new
        if reading.intent in (None, "update") and _names_a_new_one(
                units, words, page_at, self._question_words, plurals, verbs if reading.intent else None):
            reading.intent = "create"  # "credential pool for the windows jump hosts": a terse request for one
        if "who" in words[page_at:] and any(w.endswith("ed") and stem(w) in self._acts and words[j - 1] not in _STATE
                                            for j, w in enumerate(words) if j > page_at):
            for w in self.who_did:  # "somebody deleted the rule, find out who": a change's author, the audit log
                reading.add(w, MAPPED)
        return reading

    def _labels_a_new_one(self, page: str, words: list[str], start: int, named: set[int]) -> bool:
        """A request that opens with a kind of rule or policy and a colon, then says what it should do ("sandbox
        rule: detonate every archive ...", "access rule: finance apps only if ...") asks for a new one; not a
        question ("location X: is xff on"), nor one named or numbered ("HIPAA-Strict dlp engine: ...")."""
        label, colon, rest = page.partition(":")
        said = tokens(label)
        if not colon or not 2 <= len(said) <= 4 or _CLAUSES.search(label) or _DEFINITE & set(tokens(rest)[:2]):
            return False  # "client forwarding policy: put the bypass rule first" changes what is there
        if stem(said[-1]) not in _MADE or _plural(said[-1]) or any(w.isdigit() for w in said):
            return False
        return not (set(range(start, start + len(said))) & named) and not any(
            w in self._question_words for w in words[start:])


_PREPOSITIONS = {"in", "at", "on", "for", "from", "to", "by", "with", "under"}
_PAGE_WORDS = {"management", "page", "tab", "section", "screen", "menu"}
_YES_NO = {"can", "could", "will", "would", "does", "do", "is", "are"}  # "can 198.51.100.7 be registered as a ..."


@dataclass(frozen=True)
class _Unit:
    at: int
    n: int
    api: tuple[str, ...]  # the API words a console phrase stands for
    own: tuple[str, ...]  # its own stems (none for a product name or a stop word)
    product: bool = False


def _head(units: list[_Unit], words: list[str], verbs: set[int], start: int) -> frozenset[str]:
    """The last word of the request's first noun phrase, as typed and in API words: "zdx users in the HR group"
    -> {user}, "tickets raised for an incident" -> {ticket}, "app segments" -> {segment, application}. The
    phrase starts at the first word that is no verb, product or stop word and ends before the next one or a
    participle ("raised", "started"), an adverb ("the Legacy segment group entirely") or an object's name with a
    number in it ("admin ops2"). Its ids, names or details are the object's ("department ids" -> {department}); a
    measure of something is about that thing ("tally of role definitions" -> {definition})."""
    run, after = _phrase(units, words, verbs, start)
    if (len(run) == 1 and run[0].n == 1 and run[0].own[-1:] in _MEASURES and after < len(units)
            and words[units[after].at] == "of"):
        return _head(units[after + 1:], words, verbs, start) or _last(run)
    return _last(run)


def _qualifier(phrase: tuple[list[_Unit], int], units: list[_Unit], words: list[str], verbs: set[int],
               start: int) -> frozenset[str]:
    """The nouns of the phrase a preposition puts after the first noun phrase (`_phrase`), which say whose or what
    for: "provisioning keys for app connectors" -> {app, connector, assistant}. An operation on those is not what is
    asked for."""
    run, after = phrase
    if not run or after >= len(units) or words[units[after].at] not in _QUALIFYING or (
            len(run) == 1 and run[0].own[-1:] in _MEASURES):
        return frozenset()
    rest = [u for u in units[after + 1:] if u.own or u.product or u.api]
    following, _ = _phrase(rest, words, verbs, start)
    return frozenset(w for u in following for w in (*u.own, *u.api))


def _changed(phrase: tuple[list[_Unit], int], units: list[_Unit], words: list[str], verbs: set[int],
             start: int) -> frozenset[str]:
    """What an edit changes when its first noun phrase (`_phrase`) is a value of it: "fix the department on jdoe's
    zia user", "change the description of an app connector group" -> {user}, {group}; none when the phrase is the
    object."""
    run, after = phrase
    if not run or after >= len(units) or words[units[after].at] not in _OF_AN_OBJECT:
        return frozenset()
    return _head([u for u in units[after + 1:] if not u.product], words, verbs, start)  # "jdoe's zia user"


_OF_AN_OBJECT = {"of", "on"}
_QUALIFYING = {"for", "behind", "under", "from"}


def _phrase(units: list[_Unit], words: list[str], verbs: set[int], start: int) -> tuple[list[_Unit], int]:
    """The request's first noun phrase (see `_head`) and the index of the unit after it."""
    run: list[_Unit] = []
    after = len(units)
    for n, u in enumerate(units):
        if u.at < start or (run and u.own and u.own[-1] in _PAGE_WORDS):
            continue  # "Location Management" is the page of locations
        content = bool(u.own) and not any(j in verbs for j in range(u.at, u.at + u.n))
        one = words[u.at] if u.n == 1 else ""
        participle = one.endswith("ed")
        aside = one.endswith(_ADVERB_ENDINGS) or bool(_NUMBERED.fullmatch(one))
        if run and (not content or participle or aside):
            after = n
            break
        if content and not participle and not aside:
            run.append(u)
    if len(run) > 1 and run[-1].n == 1 and run[-1].own[-1:] in _OF_THE_OBJECT:
        run.pop()
    if len(run) > 1 and run[-1].n == 1 and words[run[-1].at].isdigit() and words[run[-1].at - 1] not in _RELEASED:
        run.pop()  # "user 8812": the number is the user's id (not "office 365")
    return run, after


_RELEASED = {"office", "microsoft", "m", "windows", "win", "server", "ios", "android", "macos", "exchange", "sql"}


def _last(run: list[_Unit]) -> frozenset[str]:
    return frozenset({*run[-1].own[-1:], *run[-1].api[-1:]}) if run else frozenset()


# "yesterday", "last 7 days", "over the last hour", "since monday", "last 30d", "two hours ago": a time window
_WINDOW = re.compile(
    r"\b(yesterday|today|tonight|last (night|week|month|quarter|year|(\d+|few|couple of) ?(h|hrs?|hours?|d|days?|w|"
    r"weeks?|mins?|minutes?|months?))|(past|previous|last) (hour|day|week|month|24 ?h)|this (week|month|morning|"
    r"afternoon)|over the (last|past|day|week|weekend)|since (yesterday|last|(mon|tues|wednes|thurs|fri|satur|sun)"
    r"day)|\d+ ?(h|d|hrs|mins)|\d+ (hours?|days?|minutes?|weeks?) ago|in the last)\b", re.I)
_NUMBERED = re.compile(r"[a-z]+\d+")  # "ops2", "tier2": an object's name (not "c2c", not "365")
_ADVERB_ENDINGS = ("ely", "tly", "lly", "ily", "rly", "nly", "sly")  # not "anomaly", "assembly", "supply"
# the words after an object's noun that ask for a part of it: "department ids", "group names", "rule details"
_OF_THE_OBJECT = {(w,) for w in ("id", "ids", "name", "detail", "list", "summary", "info", "definition")}
# "number of monitors", "tally of role definitions", "list of the tunnels": the thing measured is the head
_MEASURES = {(w,) for w in ("number", "count", "tally", "total", "list", "detail", "summary", "breakdown",
                            "kind", "type", "overview", "inventory")}


_CAPITALISED = re.compile(r"(?<=[\w,] )[A-Z][a-z]+\b")  # "the Retail location group": a name, not the first word
_IN = {"in", "inside", "behind", "within", "under", "of", "on"}


def _container(units: list[_Unit], words: list[str], names: set[int]) -> frozenset[str]:
    """The object a request's head noun is inside, when that object is named: "servers behind the SAP-Prod server
    group", "which apps are in the Collaboration network application group" -> {group, ...}. Such a request is
    about the named object (its get or list answers which members it has), so its noun is a head noun too."""
    for n, u in enumerate(units):
        if not (u.n == 1 and words[u.at] in _IN and u.at + 2 < len(words) and words[u.at + 1] == "the"
                and u.at + 2 in names):
            continue
        after = [v for v in units[n + 2:] if v.at > u.at + 2]
        run = []
        for v in after:
            if v.at in names:
                continue
            if not v.own:
                break
            run.append(v)
        if run:
            return frozenset({*run[-1].own[-1:], *run[-1].api[-1:]})
    return frozenset()


def _plural(word: str) -> bool:
    """"rules", "sims"; not "dns", "ips" (three letters: an acronym), "address", "status", "analysis"."""
    return len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is"))


def _names_a_new_one(units: list[_Unit], words: list[str], start: int, questions: set[str], plurals: set[str],
                     verbs: set[int] | None = None) -> bool:
    """A request that is only a singular noun phrase and what it is for ("dlp notification template for the HR
    team", "api key for ansible") asks for a new one; a plural ("rules for the HR team") or a question reads.
    What it is for may be a relative clause or a participle ("ips rule that only alerts", "bandwidth rule giving
    teams 40%"), whose verb then says what the new object does, not what to do (`verbs`: the positions of the
    words read as a command, all after the phrase, or the request is no terse one)."""
    run = list(itertools.dropwhile(lambda u: u.product, (u for u in units if u.at >= start)))  # "zpa saml ..."
    if not run or not run[0].own or any(w in questions for w in words[start:]):
        return False
    end = next((u for u in run if not u.own or words[u.at] in _CALLED
                or (u.at >= run[0].at + 2 and u.n == 1 and _participle(words[u.at])
                    and stem(words[u.at - 1]) in _MADE)), None)
    if end is None or end.n != 1 or end.at < start + 2 or end.at + 1 >= len(words):
        return False
    if verbs is not None and (not verbs or min(verbs) < end.at):
        return False  # "rename connector group X": the command opens the request
    if any(w.isdigit() for w in words[run[0].at:end.at]):
        return False  # "application profile 12 to turn on ...": a numbered one exists
    last, after = words[end.at - 1], words[end.at + 1]
    if any(_plural(w) or w in plurals for w in words[run[0].at:end.at]) or last.endswith(("ed", "ing")):
        return False  # "rules for the HR team" lists them; "tickets raised for an incident" reads
    # made for somebody in particular ("for the HR team") or to do something ("to quarantine infected files")
    # made for somebody in particular ("for the HR team") or to do something ("to quarantine infected files"), or
    # described ("dlp dictionary with our project codenames", "segment group called OT-Systems")
    return ((words[end.at] == "for" and (after in _DEFINITE or after.endswith("ing"))) or words[end.at] in _CALLED
            or (words[end.at] == "to" and after not in _DETERMINERS and after not in _DEFINITE)
            or (words[end.at] in _RELATIVE_NEW and after not in _STATE) or _participle(words[end.at]))


def _participle(word: str) -> bool:
    return word.endswith("ing") and len(word) > 5 and not word.endswith(("ings", "thing"))


# the objects an administrator makes to do something, which a participle after them describes ("bandwidth rule
# giving ...", "isolation rule sending ..."); not "document matching", "traffic forwarding" (compounds)
_MADE = {stem(w) for w in ("rule", "policy", "profile", "template", "banner", "filter", "exception")}


_RELATIVE_NEW = {"that", "which", "so"}  # "dns rule that redirects ...", "forwarding rule so laptops ..."


_CALLED = {"with", "called", "named"}


# words that may come before a command without naming anything: "pls add", "then delete", "quickly block"
_OPENERS = {"pls", "plz", "kindly", "then", "now", "quickly", "immediately", "urgently", "asap", "also", "just",
            "ok", "okay", "hey", "hi", "and", "or", "but", "force", "soc", "ir", "triage", "incident", "containment",
            "re", "bulk"}  # "re-enable": the verb is "enable"; "bulk remove the stale connectors"
_TO = {"to", "into", "onto"}
# "add X to Y" puts X into Y, which changes Y; "set up a feed to send logs to qradar" creates the feed
_ADDING = {("add",)}
# "this url", "a specific rule", a number, an address or a quoted name: the request is about one object
_QUOTED = re.compile(r"(?<!\w)['\"\u2018\u201c]([^'\"\u2019\u201d]{1,60})['\"\u2019\u201d](?!\w)")  # a name in quotes
_ONE = re.compile(r"\d|['\"][^'\"]+['\"]|@")
_THIS_ONE = {"this", "that", "specific", "particular", "given", "single", "named", "called", "id"}
# "switch a monitor back on": the particle belongs to the verb
_PARTICLE_VERBS, _PARTICLES = {"turn", "switch", "take", "kick", "shut", "lock"}, {"on", "off", "out", "down"}


# words joined by hyphens or slashes, not inside a dotted name ("sketchy-domain.xyz") or an address
_JOINED = re.compile(r"(?<![\w.@])[A-Za-z0-9]+(?:[-/][A-Za-z0-9]+)+(?![\w.@])")


def _runs(words: list[str], run: tuple[str, ...], start: int) -> list[int]:
    return [i for i in range(start, len(words) - len(run) + 1) if tuple(words[i:i + len(run)]) == run]


def _particles_together(words: list[str]) -> list[str]:
    """`switch a zdx probe back on` -> `switch on a zdx probe back`, so "switch on" is read as one verb."""
    out = list(words)
    for i, w in enumerate(words):
        if w in _PARTICLE_VERBS and i + 1 < len(words) and words[i + 1] not in _PARTICLES:
            at = next((j for j in range(i + 2, min(i + 6, len(words))) if words[j] in _PARTICLES), None)
            if at is not None:
                return out[:i + 1] + [out[at]] + out[i + 1:at] + out[at + 1:]
    return out


def _made_with_a_new_one(words: list[str], start: int) -> bool:
    """A policy asked for through a kind of rule or policy that is not there yet: "block dropbox uploads with a cloud
    app control rule", "decrypt everything for IT-Test, needs a new ssl inspection rule"."""
    for j in range(start, len(words) - 2):
        if (words[j] in _BY_MEANS and words[j + 1] in ("a", "an")) or (
                words[j] in ("a", "an") and words[j + 1] == "new" and j > start and words[j - 1] in _HAVING):
            ahead = [stem(w) for w in words[j + 2:j + 7]]
            if any(w in _MADE for w in ahead):
                return True
    return False


_BY_MEANS = {"with", "via", "using", "through"}
# an opening verb before these is a noun naming them: "email dlp rules", "email template sent when ...", "map view"
_MODIFIED = {"dlp", "template", "templates", "rule", "rules", "policy", "policies", "setting", "settings", "report",
             "reports", "notification", "notifications", "view", "up"}
# verbs no operation is named by that say what a new rule is for: "add a sandbox rule to quarantine unknown executables"
_PURPOSES = {"quarantine", "send", "route", "forward", "inspect", "decrypt", "isolate", "catch",
             "detect", "stop", "prevent", "let", "keep", "force", "redirect", "steer", "scan", "warn"}


def _adds_to_existing(words: list[str], after: int, services: dict[tuple[str, ...], str], verbs: set[str]) -> bool:
    """"add X to <an object>" (not "add X to <a product>", nor "add a rule to block ...", a purpose): the object is
    changed, not created."""
    at = next((i for i in range(after, len(words)) if words[i] in _TO), None)
    if at is None or (at + 1 < len(words) and (stem(words[at + 1]) in verbs or words[at + 1] in _PURPOSES
                                                or words[at + 1].isdigit())):
        return False  # "add a bandwidth rule limiting streaming to 20%": a measure, not an object
    rest = [w for w in words[at + 1:] if w not in ("a", "an", "the", "our", "my")]
    # the product alone ("add her to zpa"), not a product's object ("to the cloud connector source ip group")
    return bool(rest) and not any(tuple(map(stem, rest[:n])) in services and (
        len(rest) == n or rest[n] in _AFTER_NAME or rest[n].endswith("ing")) for n in (1, 2, 3))  # "zdx monitoring"


def _key(phrase: str) -> tuple[str, ...]:
    return tuple(stem(w) for w in tokens(phrase))


_AFTER_NAME = {*_PREPOSITIONS, "so", "and", "then", "too", "as", "because", "please", "pls", "now", "asap"}
_SENT = {"alerts", "alert", "logs", "log", "events", "findings", "incidents", "data"}  # what is pushed somewhere
_WRITES = {"create", "update", "delete"}
_STATE = {"is", "are", "am", "get", "gets"}  # "who is allowed": a state, not a change somebody made
_LABEL = 4  # words before a colon that label a request ("location Sao-Paulo-DC: is xff forwarding on")
# a question anywhere in a long request: "..., is there a way to see", "..., where do I get it", "just show me"
_LATER_QUESTIONS = (("show", "me"), ("is", "there"), ("are", "there"), ("where", "do"), ("where", "can"), ("whether",),
                    ("is", "it"), ("are", "they"))
_PREAMBLES = {"before"}
_WHEN = {"before", "after", "once", "until"}
# "... so I know if we're already blocking it": a question inside (not "what if I disable the rule", a what-if)
_WHETHER, _KNOWING = {"if", "whether"}, {"know", "see", "check", "tell", "ask", "wonder", "confirm", "verify", "sure"}
_SOMEBODY = {"i", "we", "you", "they", "he", "she", "it", "someone"}
# "the last change", "a recent edit": the word names a thing, it does not ask for one
_NEW = {"new", "add"}  # "a new engine" asks for one
_NEW_PHRASES = {("new",)}
_PLAIN_EDITS = {(w,) for w in ("update", "edit", "change", "modify", "fix")}
# "the location needs a new description": the object has a new value ("I need a new X", "we got a new X" still ask)
_HAVING = {"needs", "gets", "wants"}
_DEFINITE = {"the", "our", "my", "this", "that", "its", "their", "your"}
_RELATIVE = {"that", "which", "who"}
_PURPOSE = {("use", "to"), ("used", "to"), ("uses", "to")}
_DETERMINERS = {"the", "a", "an", "last", "recent", "any", "pending", "saved", "my", "our", "this", "latest"}


def _find_command(words: list[str], stems: list[str], phrase: tuple[str, ...], start: int, *, writes: bool,
                  skip: set[int] | frozenset[int] = frozenset()) -> int | None:
    """Where `phrase` asks for something in the page part of the request (from `start`), or None. A write's
    verb must be a command: not a past participle ("domains being blocked") nor a noun ("the last change")."""
    stemmed = tuple(map(stem, phrase))
    n = len(phrase)
    for i in range(start, len(words) - n + 1):
        if i in skip:
            continue
        exact = tuple(words[i:i + n]) == phrase
        if not exact and tuple(stems[i:i + n]) != stemmed:
            continue
        if writes and not exact and any(w.endswith(("ed", "s")) and w not in phrase for w in words[i:i + n]):
            continue  # "domains being blocked", "tags we use": a participle or a plural names, it does not command
        if not exact and words[i + n - 1].endswith("ings"):
            continue  # "findings", "settings", "mappings" are things, not "find" or "set"
        if writes and phrase[0] not in _NEW and i and (words[i - 1] in _DETERMINERS or words[i - 1] == "new"):
            continue  # "the last change", "the new allow rule": a noun or what a new thing does
        if writes and phrase[0] in _NEW and i and words[i - 1] in _DEFINITE:
            continue  # "a new engine" asks for one; "the new releases profile" names one that exists
        if writes and phrase[0] in _NEW and i > 1 and words[i - 1] in ("a", "an") and words[i - 2] in _HAVING:
            continue  # "the Leeds location needs a new description": a new value of the object's, not a new object
        if writes and i and (words[i - 1] in _RELATIVE or tuple(words[max(0, i - 2):i]) in _PURPOSE):
            continue  # "rules that stop exe downloads", "labels we use to tag policies": says what a thing does
        return i
    return None


@cache
def load_vocabulary() -> Vocabulary:
    """The vocabulary shipped in `oneapi_mcp.generated` (copied there from specs/ by `make generate`)."""
    from .generated.services import SERVICES

    text = resources.files("oneapi_mcp.generated").joinpath("vocabulary.yaml").read_text()
    return Vocabulary(yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)),
                      product_names(SERVICES.values()))
