"""Pseudonymisation of transcripts before they are stored: proposals a researcher confirms.

Offline and model-free. Three sources of proposals, in order of trust:

``registered``
    Names and aliases of people, places and organisations the researcher registered for the
    study. The ``Registry`` keeps them only as keyed hashes, ``HMAC-SHA256(study key,
    normalise(text))``, where ``normalise`` folds accents (NFKD), lower-cases and turns every run
    of spaces and punctuation into one space ("Al-Hassan", "al hassan" and "AL HASSAN" are one
    name; a leading "the" is dropped). Detection hashes every run of 1-4 words of a later
    transcript, also without a possessive or plural ending ("Khan's", "the Khans"), and looks
    the hash up, so a second transcript gets the same pseudonyms and no name is ever stored.
    Neighbouring pieces of one entity merge ("mo shah" when "Mo" and "Shah" are registered).
    A lone lower-case common English word ("hope", "rose") is not taken for a registered name;
    the capitalised form is.
``pattern``
    Email addresses and phone numbers (the hub's own finders in ``hub.core.identifiers``:
    libphonenumber at "possible" leniency, region GB by default, international numbers with
    their ``+``/``00`` prefix, at least nine digits), UK postcodes (full ones in any case, any
    area; outward-only ones such as "BD8" in capitals when the area exists and, for one-letter
    areas that roads share, "M62", only after a place word such as "in" or before "area"),
    street addresses (an optional "Flat 2," or "Unit 7, Kelham House,", a house number, up to
    three capitalised words and a street suffix such as Road or Close, even across a line
    break, with an optional ", Town"; addresses typed all in lower case are not found) and
    links (``http(s)://``, ``www.`` or a bare domain on a common ending such as ``.org.uk``).
``likely-name``
    Capitalised words (one capital at the start of each part: "Al-Furqan", "McKay", not "PCs"
    or "P3") that are not common English words (``wordfreq`` Zipf frequency, of the word or a
    plain inflection of it, below ``COMMON_ZIPF``, one lower at the start of a sentence) and
    are not seen in lower case in the same text, nor a role or domain word (``NOT_NAMES``:
    Prevent, Imam, Ramadan, Somali, countries, ...); any capitalised word after a title (``PC``,
    ``Mrs``, ``Auntie``) or in a speaker label at a line start (``Siobhan:``), and any word that
    is a speaker label elsewhere in the text. Neighbouring capitalised words join them; a
    trailing "Trust", "Council", "Forum" ... makes an organisation, "Mosque", "School",
    "Estate" ... a place (and "Market Street" is a place even though both words are common);
    after "in", "at", "from" ... or before "estate", "area" ... a place; otherwise a person.
    These are guesses with lower confidence, for review.

Labels are numbered per kind in the order a study first meets each entity: people who are
participants ``[Participant N]``, other people ``[Person N]``, ``[Place N]``,
``[Organisation N]``, ``[Email N]``, ``[Phone N]``, ``[Postcode N]``, ``[Address N]``,
``[Link N]``. Aliases registered with the same ``entity`` (for a participant, their code) share
a label. Pattern and likely-name values are remembered by hash too, in one spelling (phone
numbers as E.164, postcodes without spaces, links without scheme or "www."), so the same value
gets the same label throughout a study; a label is reserved when first proposed, so a proposal
the researcher drops can leave a gap in the numbers. ``Registry.dump()`` is JSON holding only
hashes, kinds, labels and counters; ``Registry.load(key, data)`` restores it. Without the key
the hashes cannot be tested against guessed names.

``propose()`` returns non-overlapping proposals sorted by position: patterns win an overlap,
then registered names and likely names with a place or organisation suffix, the longer span
first ("Kelham Leisure Centre" over a registered "Kelham"), then other likely names. New labels
are handed out in reading order. ``apply()`` replaces the proposals the researcher confirmed,
with their labels as edited, from the end backwards. A label never contains the original text.
"""

from __future__ import annotations

import bisect
import hashlib
import hmac
import json
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import phonenumbers
from wordfreq import zipf_frequency

from hub.core.identifiers import EMAIL, MIN_PHONE_DIGITS

PEOPLE = ("participant", "person")
NAMED = (*PEOPLE, "place", "organisation")
STRUCTURED = ("email", "phone", "postcode", "address", "url")
KINDS = (*NAMED, *STRUCTURED)
LABEL_WORD = {"participant": "Participant", "person": "Person", "place": "Place",
              "organisation": "Organisation", "email": "Email", "phone": "Phone",
              "postcode": "Postcode", "address": "Address", "url": "Link"}
COMMON_ZIPF = 4.0  # "Patel" 3.5 and "Siobhan" 2.8 fall below it; "Khan" 4.3 needs registering

WORD = re.compile(r"(?<![\w'’-])[^\W\d_](?:[\w'’-]*[^\W_])?")
POSSESSIVE = re.compile(r"(?:['’]s|s['’]|s)$")
SPEAKER = re.compile(r"^[ \t]*([^\W\d_][\w'’. -]{0,40}?):", re.MULTILINE)

# Postcode areas of the United Kingdom (Royal Mail), so "P3" or "Y9" is never a postcode.
AREAS = set(
    "AB AL B BA BB BD BH BL BN BR BS BT CA CB CF CH CM CO CR CT CV CW DA DD DE DG DH DL DN DT "
    "DY E EC EH EN EX FK FY G GL GU GY HA HD HG HP HR HS HU HX IG IM IP IV JE KA KT KW KY L "
    "LA LD LE LL LN LS LU M ME MK ML N NE NG NN NP NR NW OL OX PA PE PH PL PO PR RG RH RM S "
    "SA SE SG SK SL SM SN SO SP SR SS ST SW SY TA TD TF TN TQ TR TS TW UB W WA WC WD WF WN WR "
    "WS WV YO ZE".split())
POSTCODE = re.compile(r"\b([A-Z]{1,2})(\d[A-Z\d]?)[ \t]*(\d[ABD-HJLNP-UW-Z]{2})\b", re.I)
OUTWARD = re.compile(r"\b([A-Z]{1,2})(\d[A-Z\d]?)\b")
PLACE_BEFORE = {"in", "from", "around", "near", "across", "covering", "postcode", "and", "or",
                "into", "to", "of", "at", "over"}
STREET = (r"Road|Rd|Street|St|Lane|Ln|Avenue|Ave|Close|Way|Drive|Dr|Crescent|Terrace|Place"
          r"|Grove|Gardens|Court|Row|Hill|Walk|Parade|Square|Mews|View|Rise|Green|Vale|Park"
          r"|Approach|Broadway|Wharf|Yard|Boulevard|Esplanade|Embankment|Circus")
NAME_WORD = r"[A-Z][\w'’-]*"
ADDRESS = re.compile(
    r"\b(?:(?:Flat|Unit|Apartment|Suite)\s+\d+[A-Za-z]?,?\s+"  # "Unit 7, Kelham House, "
    r"(?:(?:" + NAME_WORD + r"\s+){0,3}" + NAME_WORD + r",\s+)?)?"
    r"\d{1,4}[A-Za-z]?,?\s+(?:" + NAME_WORD + r"\s+){1,3}(?:" + STREET + r")\b"
    r"(?:,[ \t]+[A-Z][a-z]+(?:[ \t][A-Z][a-z]+)?(?=[,.;)\n]|\s+[A-Z]{1,2}\d|$))?")
URL = re.compile(
    r"\b(?:https?://|www\.)[^\s<>\"]+"
    r"|\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:org\.uk|co\.uk|gov\.uk|ac\.uk|nhs\.uk|com|org|net|"
    r"uk|io|info)(?:/[^\s<>\"]*)?", re.I)

TITLES = {"mr", "mrs", "ms", "miss", "dr", "pc", "pcso", "dc", "ds", "di", "sgt", "sergeant",
          "inspector", "officer", "imam", "sheikh", "auntie", "aunty", "uncle", "sister",
          "brother", "cllr", "councillor", "coach", "father", "rev", "reverend", "mx", "hafiz",
          "maulana", "ustadh", "chief", "superintendent", "constable", "detective"}
ROLE_WORDS = {"interviewer", "facilitator", "moderator", "researcher", "participant",
              "respondent", "worker", "youth", "officer", "police", "young", "person",
              "community", "staff", "member", "lead", "note", "all", "several", "group", "both",
              "voices", "male", "female", "voice", "unknown", "inaudible"}
NOT_NAMES = {
    "prevent", "channel", "police", "muslim", "muslims", "islam", "islamic", "ramadan", "eid",
    "imam", "quran", "jummah", "mosque", "insha'allah", "inshallah", "mashallah", "alhamdulillah",
    "salaam", "asian", "somali", "polish", "irish", "pakistani", "bangladeshi", "kashmiri",
    "british", "english", "arabic", "urdu", "punjabi", "gujarati", "romanian", "eritrean",
    "sikh", "hindu", "christian", "jewish", "black", "white", "ofsted", "whatsapp", "instagram",
    "tiktok", "snapchat", "facebook", "youtube", "twitter", "google", "zoom", "teams", "covid",
    "brexit", "gcse", "gcses", "btec", "ks3", "ks4", "sixth", "year", "pcso", "pcsos", "sgt",
    "mp", "nhs", "cid", "cps", "mi5", "cctv", "asb", "sen", "send", "lgbt", "i", "i'm", "i've",
    "i'd", "i'll", "ok", "okay", "yeah", "erm", "um", "uh", "mm", "hmm", "right", "so", "and",
    "but", "well", "like", "no", "yes", "oh", "sir", "miss", "christmas", "diwali", "vaisakhi",
    "easter", "friday", "saturday", "sunday", "monday", "tuesday", "wednesday", "thursday",
    "interviewer", "facilitator", "safeguarding", "radicalisation", "extremism", "counter",
    "terrorism", "home", "office", "government", "council", "mum", "dad", "nan", "bro", "innit",
    "allah", "inshaallah", "wallahi", "sharia", "hijab", "halal", "madrassa", "madrasa", "dua",
    "gurdwara", "mandir", "ummah", "desi", "roma", "gypsy", "traveller", "africa", "african",
    "caribbean", "europe", "european", "kurdish", "arab", "syrian", "afghan", "iraqi", "yemeni",
    "ukrainian", "turkish", "nigerian", "ghanaian", "indian", "scottish", "welsh", "uk", "eu",
    "cheers", "mate", "bruv", "fam", "wagwan", "subhanallah", "astaghfirullah", "tbh"}
# Countries, peoples and platforms: too broad to identify anyone in a UK transcript.
NOT_NAMES |= set(
    "afghanistan albania algeria bangladesh britain china egypt england eritrea ethiopia france "
    "gaza germany ghana india iran iraq ireland israel italy jamaica kashmir kenya kenyan "
    "kosovo kurdistan lebanon libya morocco nigeria pakistan palestine palestinian philippines "
    "filipino poland portugal romania russia scotland somalia somaliland spain sudan sudanese "
    "syria turkey uganda ukraine wales yemen zimbabwe europe america american islamist "
    "jihadist jihadi salafi sufi deobandi shia sunni zionist nazi nazis discord telegram reddit "
    "twitch xbox playstation fifa asda tesco aldi lidl morrisons sainsbury's greggs".split())
ORG_SUFFIX = {"trust", "council", "association", "project", "forum", "network", "partnership",
              "foundation", "charity", "police", "group", "services", "service", "society",
              "club", "fc", "alliance", "collective", "board", "ltd", "cic", "federation",
              "initiative", "hub", "housing", "university", "company", "committee", "aid"}
PLACE_SUFFIX = {"building", "station", "wood", "fellowship", "chapel", "mosque", "masjid",
                "school", "academy", "college", "estate", "park", "centre",
                "center", "street", "road", "lane", "avenue", "close", "way", "drive",
                "crescent", "terrace", "square", "gardens", "grove", "library", "church",
                "gurdwara", "hall", "primary", "high", "green", "fields", "heights", "towers",
                "house", "court", "flats", "market", "precinct", "rec", "gym", "village"}
PLACE_PREP = {"in", "at", "from", "near", "around", "across", "into", "towards", "outside",
              "round", "through", "off", "past"}
CONNECTORS = {"of", "de", "al", "el", "bin", "ibn", "van", "von", "der", "da", "la", "le"}
SOURCE_RANK = {"pattern": 0, "registered": 1, "likely-name": 2}
GAP = re.compile(r"[.'’]?[ \t]*\n?[ \t]*")
STREET_WORDS = {"street", "road", "lane", "avenue", "terrace", "crescent", "grove", "gardens",
                "parade", "mews", "square", "park", "estate"}
GENERIC = {"community", "primary", "secondary", "high", "youth", "leisure", "sports", "local",
           "car", "new", "old", "main", "this", "that", "our", "your", "their", "my", "every"}
PLACE_LEAD = {"county", "st", "saint", "mount", "port", "upper", "lower", "north", "south",
              "east", "west", "great", "little"}
PLACE_AFTER = {"estate", "area", "flats", "side", "end", "ward", "branch", "campus", "town",
               "village", "parish", "district", "way", "high", "rec"}
PATTERN_RANK = {"email": 0, "url": 1, "address": 2, "phone": 3, "postcode": 4}


@dataclass(frozen=True)
class Proposal:
    start: int
    end: int
    original: str
    kind: str
    label: str
    source: str  # "registered" | "pattern" | "likely-name"


@lru_cache(maxsize=65536)
def normalise(text: str) -> str:
    """Lower case, accents folded, every run of spaces and punctuation one space."""
    folded = "".join(ch for ch in unicodedata.normalize("NFKD", text)
                     if not unicodedata.combining(ch))
    return " ".join(re.sub(r"[\W_]+", " ", folded.casefold()).split())


@lru_cache(maxsize=65536)
def _name_key(text: str) -> str:
    """A name as hashed: normalised, without a leading "the" ("the Darul" is "Darul")."""
    return re.sub(r"^the ", "", normalise(text))


@lru_cache(maxsize=65536)
def _zipf(word: str) -> float:
    return zipf_frequency(word, "en")


def is_common_word(word: str) -> bool:
    return _zipf(word.casefold()) >= COMMON_ZIPF


class Registry:
    """A study's pseudonym registry: keyed hashes of names and values, and their labels."""

    def __init__(self, key: bytes):
        if not isinstance(key, bytes) or len(key) < 16:
            raise ValueError("the study key must be at least 16 bytes")
        self._key = key
        self._names: dict[str, tuple[str, str]] = {}  # hash of a name -> (kind, label)
        self._entities: dict[str, str] = {}  # hash of an entity -> label
        self._values: dict[str, tuple[str, str]] = {}  # hash of kind+value -> (kind, label)
        self._counts: dict[str, int] = {}

    def _hash(self, text: str) -> str:
        return hmac.new(self._key, text.encode(), hashlib.sha256).hexdigest()

    def _next_label(self, kind: str) -> str:
        self._counts[kind] = self._counts.get(kind, 0) + 1
        return f"[{LABEL_WORD[kind]} {self._counts[kind]}]"

    def register(self, text: str, kind: str, entity: str | None = None) -> str:
        """Register a name or alias of a person, place or organisation; return its label.

        Aliases given the same ``entity`` (a participant's code, say) share one label. Only
        hashes are kept, so the plain ``text`` is gone once this returns.
        """
        if kind not in NAMED:
            raise ValueError(f"kind must be one of {', '.join(NAMED)}")
        name = _name_key(text)
        if not name:
            raise ValueError("nothing to register")
        name_hash = self._hash("name\0" + name)
        entity_hash = self._hash(f"entity\0{kind}\0{normalise(entity or text)}")
        label = self._entities.get(entity_hash)
        if label is None:
            label = self._names[name_hash][1] if name_hash in self._names else None
        if label is None:
            label = self._next_label(kind)
        self._entities[entity_hash] = label
        self._names[name_hash] = (kind, label)
        return label

    def lookup(self, text: str) -> tuple[str, str] | None:
        """The (kind, label) of a registered name, or None."""
        return self._names.get(self._hash("name\0" + _name_key(text)))

    def label_for(self, kind: str, value: str) -> str:
        """The study's label for a found value, the same one every time it is met."""
        family = "person" if kind in PEOPLE else kind
        value_hash = self._hash(f"value\0{family}\0{normalise(value)}")
        if value_hash not in self._values:
            self._values[value_hash] = (kind, self._next_label(kind))
        return self._values[value_hash][1]

    def dump(self) -> str:
        return json.dumps({"version": 1, "names": self._names, "entities": self._entities,
                           "values": self._values, "counts": self._counts}, sort_keys=True)

    @classmethod
    def load(cls, key: bytes, data: str) -> Registry:
        state = json.loads(data)
        registry = cls(key)
        registry._names = {h: tuple(v) for h, v in state["names"].items()}
        registry._entities = dict(state["entities"])
        registry._values = {h: tuple(v) for h, v in state["values"].items()}
        registry._counts = dict(state["counts"])
        return registry


def propose(text: str, registry: Registry, *, region: str = "GB") -> list[Proposal]:
    """Proposed replacements for the identifiers in ``text``: non-overlapping, by position."""
    found = sorted(_patterns(text, region) + _registered(text, registry) + _likely_names(text),
                   key=_rank)
    chosen: list[tuple] = []
    for candidate in found:
        start, end = candidate[:2]
        if not any(start < e and s < end for s, e, *_ in chosen):
            chosen.append(candidate)
    proposals = []
    for start, end, kind, source, label, *_ in sorted(chosen):  # numbered in reading order
        original = text[start:end]
        label = label or registry.label_for(kind, _canonical(kind, original, region))
        proposals.append(Proposal(start, end, original, kind, label, source))
    return proposals


def _canonical(kind: str, value: str, region: str) -> str:
    """One spelling per value, so "07700 900123" and "07700 900 123" share a label."""
    if kind == "phone":
        try:
            number = phonenumbers.parse(value, region)
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        except phonenumbers.NumberParseException:
            return "".join(ch for ch in value if ch.isdigit() or ch == "+")
    if kind == "url":
        return re.sub(r"^(?:https?://)?(?:www\.)?", "", value.casefold()).rstrip("/")
    if kind == "postcode":
        return re.sub(r"\W", "", value).upper()
    return value


def _rank(candidate: tuple) -> tuple:
    start, end, kind, source, _label, *strong = candidate
    # A likely name with a place or organisation suffix ("Kelham Leisure Centre") is as good
    # as a registered name it contains ("Kelham"); otherwise patterns, then registered names.
    rank = 1 if strong and strong[0] else SOURCE_RANK[source]
    return (rank, PATTERN_RANK.get(kind, 9), start - end, SOURCE_RANK[source])


def apply(text: str, proposals: list[Proposal]) -> str:
    """``text`` with each confirmed proposal replaced by its label (the researcher's edits kept)."""
    out = text
    last = len(text) + 1
    for proposal in sorted(proposals, key=lambda p: p.start, reverse=True):
        if proposal.end > last:
            raise ValueError("proposals overlap")
        out = out[:proposal.start] + proposal.label + out[proposal.end:]
        last = proposal.start
    return out


# Structured identifiers --------------------------------------------------------------------

def _patterns(text: str, region: str) -> list[tuple]:
    found = [(m.start(), m.end(), "email", "pattern", None) for m in EMAIL.finditer(text)]
    for m in URL.finditer(text):
        end = m.start() + len(m.group().rstrip(".,;:!?)'’\""))
        found.append((m.start(), end, "url", "pattern", None))
    for m in phonenumbers.PhoneNumberMatcher(text, region,
                                             leniency=phonenumbers.Leniency.POSSIBLE):
        if sum(ch.isdigit() for ch in m.raw_string) >= MIN_PHONE_DIGITS:
            found.append((m.start, m.end, "phone", "pattern", None))
    found += [(m.start(), m.end(), "address", "pattern", None) for m in ADDRESS.finditer(text)]
    found += _postcodes(text)
    return found


def _postcodes(text: str) -> list[tuple]:
    # The full form is distinctive enough to take without checking the area.
    found = [(m.start(), m.end(), "postcode", "pattern", None) for m in POSTCODE.finditer(text)]
    for m in OUTWARD.finditer(text):
        area = m.group(1)
        if area not in AREAS or text[m.end():m.end() + 1].isalnum():
            continue
        before = re.findall(r"[\w']+", text[max(0, m.start() - 20):m.start()].lower())[-1:]
        after = text[m.end():m.end() + 12].lower()
        placed = bool(before) and before[0] in PLACE_BEFORE
        if len(area) == 1 and not (placed or after.lstrip().startswith(("area", "postcode"))):
            continue
        if len(area) == 2 and not (placed or after.lstrip()[:1] in {"", ",", ".", "a", "s"}):
            continue
        found.append((m.start(), m.end(), "postcode", "pattern", None))
    return found


# Registered names --------------------------------------------------------------------------

def _words(text: str) -> list[re.Match]:
    return list(WORD.finditer(text))


def _joined(text: str, words: list[re.Match], i: int, n: int, in_name: bool = False) -> bool:
    """Whether words i..i+n-1 follow each other as one name might ("St. Jude's", "Residents' ")."""
    for a, b in zip(words[i:i + n - 1], words[i + 1:i + n], strict=False):
        gap = text[a.end():b.start()]
        if gap.startswith(".") and len(a.group()) > 2:
            return False  # a full stop ends a sentence; after "St" or an initial it does not
        if not GAP.fullmatch(gap) or (in_name and gap.count("\n") > 1):
            return False
    return True


def _registered(text: str, registry: Registry) -> list[tuple]:
    """Every registered name, the longest at each word; propose() settles overlaps.

    A lower-case common word ("hope", "rose") is taken for a name only beside another part of
    the same name ("mo shah"), as such pieces are merged into one proposal.
    """
    words = _words(text)
    hits = []
    for i in range(len(words)):
        for n in range(min(4, len(words) - i), 0, -1):
            hit = _joined(text, words, i, n) and _lookup(
                text, words[i].start(), words[i + n - 1].end(), registry)
            if hit:
                hits.append(hit)
                break
    hits.sort(key=lambda h: (h[0], h[0] - h[1]))
    merged: list[list] = []
    for start, end, kind, _source, label, word_only in hits:
        last = merged[-1] if merged else None
        if last and last[4] == label and start >= last[1] \
                and re.fullmatch(r"[ \t]+", text[last[1]:start]):
            last[1], last[5] = end, False
        else:
            merged.append([start, end, kind, "registered", label, word_only])
    return [tuple(m[:5]) for m in merged if not m[5]]


def _lookup(text: str, start: int, end: int, registry: Registry) -> tuple | None:
    span = text[start:end]
    forms = [(span, end)]
    ending = POSSESSIVE.search(span)
    if ending and ending.start() > 0:
        forms.append((span[:ending.start()], start + ending.start()))
    for form, form_end in forms:
        entry = registry.lookup(form)
        if entry is not None:
            # "hope", "rose": a word, unless written as a name or beside the rest of one
            word_only = form == form.lower() and all(is_common_word(w) for w in WORD.findall(form))
            return (start, form_end, entry[0], "registered", entry[1], word_only)
    return None


# Likely names ------------------------------------------------------------------------------

def _likely_names(text: str) -> list[tuple]:
    # Words seen in lower case are words, not names; but not in addresses ("amina@...").
    prose = URL.sub(" ", EMAIL.sub(" ", text))
    lower_seen = {w.group() for w in WORD.finditer(prose) if w.group().islower()}
    speakers = _Spans(m.span(1) for m in SPEAKER.finditer(text))
    speaker_names = {w.casefold() for a, b in speakers.spans
                     for w in WORD.findall(text[a:b])}
    context = (lower_seen, speaker_names, speakers)
    words = _words(text)
    found = []
    i = 0
    while i < len(words):
        if not _capitalised(words[i].group()):
            i += 1
            continue
        j = i + 1
        while j < len(words) and _joined(text, words, j - 1, 2, in_name=True) \
                and not speakers.ends_between(words[j - 1].end(), words[j].start()):
            w = words[j].group()
            gap = text[words[j - 1].end():words[j].start()]
            if "\n" in gap and w.casefold() not in PLACE_SUFFIX | ORG_SUFFIX:
                break
            if _capitalised(w) or (w.lower() in CONNECTORS and j + 1 < len(words)
                                   and _capitalised(words[j + 1].group())):
                j += 1
            else:
                break
        found += _name_group(text, words[i:j], context)
        i = j
    return found


def _capitalised(word: str) -> bool:
    # "PCs", "JMC" and the participant code "P3" are not names; "Al-Furqan", "McKay" may be.
    return word[:1].isupper() and not any(ch.isdigit() for ch in word) \
        and not any(a.isupper() and b.isupper() for a, b in zip(word, word[1:], strict=False))


def _common(key: str, initial: bool) -> bool:
    """A common English word, in any of its plain inflections ("Thursdays", "Apologised")."""
    limit = COMMON_ZIPF - (1.0 if initial else 0)
    forms = {key, re.sub(r"(?:'s|’s|s|es|ed|d|ly|ing)$", "", key),
             re.sub(r"ised$", "ized", key), re.sub(r"ies$", "y", key)}
    return any(f and _zipf(f) >= limit for f in forms)


def _name_group(text: str, group: list[re.Match], context) -> list:
    lower_seen, speaker_names, speakers = context
    keys = [w.group().casefold().removesuffix("'s").removesuffix("’s") for w in group]
    before = text[max(0, group[0].start() - 30):group[0].start()]
    prev = re.findall(r"[\w'’]+", before)
    prev_word = prev[-1].casefold() if prev and not before.rstrip(" \t").endswith(
        tuple(",;:.!?\"“”")) else ""
    in_speaker = speakers.holds(group[0].start())
    titled = prev_word in TITLES or in_speaker
    placed = prev_word in PLACE_PREP or prev_word == "county"
    # Leading titles, role and stop words are not part of the name.
    k = 0
    while k < len(keys) and (keys[k] in TITLES | NOT_NAMES | ROLE_WORDS | CONNECTORS
                             or keys[k] in PLACE_LEAD):
        titled = titled or keys[k] in TITLES or in_speaker
        placed = placed or keys[k] in PLACE_LEAD
        k += 1
    if k and keys[k - 1] in {"st", "saint"}:
        k -= 1  # "St Patrick's" is a church
    group, keys = group[k:], keys[k:]
    while keys and keys[-1] in CONNECTORS | NOT_NAMES and keys[-1] not in PLACE_SUFFIX:
        group, keys = group[:-1], keys[:-1]
    if not keys:
        return []
    initial = _sentence_initial(text, group[0].start())
    namey = [key in speaker_names or not (
        key in NOT_NAMES or key in ROLE_WORDS or key in lower_seen or len(key) < 2
        or _common(key, initial and n == 0)) for n, key in enumerate(keys)]
    start, end = group[0].start(), group[-1].end()
    if text[end - 2:end] in ("'s", "’s"):
        end -= 2
    following = re.match(r"(?:['’]s)?\s+(\w+)", text[end:end + 20])
    after = following.group(1).casefold() if following else ""
    if len(keys) > 1 and keys[-1] in ORG_SUFFIX | PLACE_SUFFIX and (
            any(namey[:-1]) or keys[0] in {"st", "saint"}):
        kind = "organisation" if keys[-1] in ORG_SUFFIX else "place"
        return [(start, end, kind, "likely-name", None, True)]
    if len(keys) > 1 and keys[-1] in STREET_WORDS and keys[0] not in GENERIC:
        return [(start, end, "place", "likely-name", None, False)]  # "Market Street"
    if keys[0] in {"st", "saint"} and len(keys) > 1:
        return [(start, end, "place", "likely-name", None, False)]
    if not (titled or any(namey)):
        return []
    if initial and not titled and not namey[0]:
        while group and not namey[0]:  # "Then Siobhan": the first word is not the name
            group, keys, namey = group[1:], keys[1:], namey[1:]
        start = group[0].start()
    if keys[0] in {"st", "saint"} or placed or after in PLACE_SUFFIX | PLACE_AFTER:
        return [(start, end, "place", "likely-name", None, False)]
    return [(start, end, "person", "likely-name", None, False)]


def _sentence_initial(text: str, start: int) -> bool:
    # A short look back is enough (and keeps long transcripts from costing n² copies).
    window = max(0, start - 200)
    before = text[window:start].rstrip(" \t\"'“‘(")
    if not before and window:
        before = text[:start].rstrip(" \t\"'“‘(")
    return not before or before[-1] in ".!?:\n…-–—"


class _Spans:
    """Sorted, non-overlapping spans (speaker labels), asked about by position in log time."""

    def __init__(self, spans):
        self.spans = sorted(spans)
        self.starts = [a for a, _ in self.spans]

    def _last_starting_before(self, position: int, inclusive: bool):
        find = bisect.bisect_right if inclusive else bisect.bisect_left
        at = find(self.starts, position) - 1
        return self.spans[at] if at >= 0 else None

    def holds(self, position: int) -> bool:
        """Whether a span covers ``position`` (start <= position < end)."""
        span = self._last_starting_before(position, inclusive=True)
        return span is not None and position < span[1]

    def ends_between(self, end: int, next_start: int) -> bool:
        """Whether a span with start < ``end`` <= its end < ``next_start`` exists."""
        span = self._last_starting_before(end, inclusive=False)
        return span is not None and end <= span[1] < next_start

