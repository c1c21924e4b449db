"""Full-text search of the library: one contract, two engines.

SQLite uses an FTS5 table, PostgreSQL a table of tsvectors with GIN indexes; which one runs
follows the database in use. Both index two parts of each published resource apart: what it
says about itself (title, authors, abstract, keywords) and the text of its files. A person
whose access stops at the metadata is matched, ranked and shown snippets from the metadata
alone, so nothing of a file they may not open leaks through results, counts, facets or
snippets. The access rules themselves come from ``hub.policy`` as querysets, whose
conditions the search applies to each match's resource row. Facet counts of very large result
sets are estimates from a sample of the person's own hits (see ``EXACT_FACETS``).
"""

from __future__ import annotations

import html
import math
import re
from dataclasses import dataclass, field
from datetime import UTC

from django.conf import settings
from django.db import connection
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from hub import policy
from hub.library import caching
from hub.library.models import Audience, Resource, ResourceFile, Theme
from hub.members.models import Organisation

PER_PAGE = 20
MAX_PAGE = 500
BODY_LIMIT = 1_000_000  # characters of file text indexed per resource
OPEN, CLOSE = "\x02", "\x03"  # highlight markers, swapped for <mark> after escaping

SORTS = {
    "relevance": "Best match",
    "newest": "Newest first",
    "oldest": "Oldest first",
    "year": "Year of publication",
    "title": "Title A–Z",
}
FACETS = ["type", "theme", "audience", "country", "language", "organisation", "year"]


# --- The query a person asks ----------------------------------------------------------------

@dataclass(frozen=True)
class Term:
    words: tuple[str, ...]
    negated: bool = False


TOKEN = re.compile(r'(-?)"([^"]*)"|(-?)(\S+)')
WORD = re.compile(r"\w+", re.UNICODE)


def parse(text: str) -> list[Term]:
    """Words and "quoted phrases"; a leading minus leaves a word or phrase out. Everything
    else the person types is treated as words, never as engine syntax."""
    terms = []
    for match in TOKEN.finditer((text or "")[:500]):
        negated = bool(match.group(1) or match.group(3))
        words = tuple(w.lower() for w in WORD.findall(match.group(2) or match.group(4) or ""))
        if words:
            terms.append(Term(words, negated))
    if terms and all(term.negated for term in terms):
        terms = [Term(term.words) for term in terms]
    return terms[:20]


@dataclass
class Query:
    text: str = ""
    types: list[str] = field(default_factory=list)
    themes: list[str] = field(default_factory=list)
    audiences: list[str] = field(default_factory=list)
    countries: list[str] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)
    organisations: list[str] = field(default_factory=list)
    year_from: int | None = None
    year_to: int | None = None
    sort: str = ""
    page: int = 1
    per_page: int = PER_PAGE

    @property
    def terms(self) -> list[Term]:
        return parse(self.text)

    @property
    def order(self) -> str:
        if self.sort in SORTS and (self.sort != "relevance" or self.terms):
            return self.sort
        return "relevance" if self.terms else "newest"


@dataclass
class Hit:
    resource: Resource
    snippet: str  # HTML-escaped text with <mark> around matches
    files_open: bool


@dataclass
class Facet:
    name: str
    label: str
    values: list[tuple[str, str, int]]  # (value, label, count)
    approximate: bool = False  # counts estimated from a sample of the hits


@dataclass
class Results:
    query: Query
    hits: list[Hit]
    total: int
    facets: dict[str, Facet]
    # Above the ranking window the total is an estimate and only the window's hits are ranked:
    # ``window`` is their number, and the pages stop at them.
    estimated: bool = False
    window: int | None = None

    @property
    def facets_approximate(self) -> bool:
        return any(facet.approximate for facet in self.facets.values())

    @property
    def pages(self) -> int:
        reachable = min(self.total, self.window) if self.estimated else self.total
        return min(MAX_PAGE, max(1, math.ceil(reachable / self.query.per_page)))

    @property
    def page(self) -> int:
        return self.query.page

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def has_previous(self) -> bool:
        return self.page > 1


# --- The engines ----------------------------------------------------------------------------

@dataclass
class Source:
    """Where an engine finds its matches, as pieces of SQL the search puts together with the
    access rules: ``FROM {table} WHERE {match}``, each row's resource id and its score."""

    table: str
    id: str
    score: str
    score_params: list
    match: str
    match_params: list
    # When set, the score comes from this query instead (``score`` is then 0.0): SQL giving
    # (id, score) for every document whose id is at least what follows it (`` >= ...``). It
    # finds at least every document the match finds.
    rescore: str = ""
    rescore_params: list = field(default_factory=list)


class Engine:
    """What both engines share: the engine's own answer, for the benchmark to compare with."""

    JOIN = "JOIN"  # how the search joins the resources to the engine's matches

    def source(self, terms: list[Term], *, metadata_only: bool, ranked: bool) -> Source:
        raise NotImplementedError

    def matches(self, terms: list[Term], *, metadata_only: bool,
                ranked: bool = True) -> tuple[str, list]:
        """SQL giving (id, score) for every matching document; higher scores rank first.
        Scoring is skipped when results are sorted some other way."""
        s = self.source(terms, metadata_only=metadata_only, ranked=ranked)
        found = f"SELECT {s.id} AS id, {s.score} AS score FROM {s.table} WHERE {s.match}"  # nosec B608  # the engine's own SQL; values are parameters
        return self._rescored(s, found, [*s.score_params, *s.match_params], "0")

    @staticmethod
    def _rescored(s: Source, found: str, params: list, since: str) -> tuple[str, list]:
        """``found`` (id, score rows) with the scores of ``s.rescore``, which looks only at
        ids from ``since`` (SQL) on."""
        if not s.rescore:
            return found, params
        return (f"WITH f AS MATERIALIZED ({found}), r AS MATERIALIZED ({s.rescore} >= {since}) "  # nosec B608  # the engine's own SQL
                "SELECT f.id AS id, r.score AS score FROM f JOIN r ON r.id = f.id",
                [*params, *s.rescore_params])

    def raw(self, terms: list[Term], limit: int = PER_PAGE,
            window: int | None = None) -> tuple[list[int], int]:
        """The engine alone, no access rules: a ranked page and the number of matches. With a
        window, the page is ranked among the newest ``window`` matches, as the search ranks."""
        if window:
            s = self.source(terms, metadata_only=False, ranked=True)
            newest = (f"SELECT {s.id} AS id, {s.score} AS score FROM {s.table} "  # nosec B608  # the engine's own SQL; values are parameters
                      f"WHERE {s.match} ORDER BY {s.id} DESC LIMIT %s")
            sql, params = self._rescored(s, newest, [*s.score_params, *s.match_params,
                                                     window + 1], "(SELECT min(id) FROM f)")
        else:
            sql, params = self.matches(terms, metadata_only=False)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT id FROM ({sql}) AS m ORDER BY score DESC LIMIT %s",  # nosec B608  # the engine's own SQL; values are parameters
                           [*params, limit])
            ids = [row[0] for row in cursor.fetchall()]
            unranked, params = self.matches(terms, metadata_only=False, ranked=False)
            cursor.execute(f"SELECT count(*) FROM ({unranked}) AS m", params)  # nosec B608  # the engine's own SQL
            return ids, cursor.fetchone()[0]


class Fts5Engine(Engine):
    """SQLite FTS5 with two tables: one of whole documents (title, authors, abstract,
    keywords, body) and one of descriptions alone. BM25 weighs a match by the length of the
    row it is in, so people who may not open the files are ranked on the second table: the
    length of text they cannot see does not move a result up or down."""

    name = "sqlite-fts5"
    # FTS5 first, then each match's resource by rowid: left to choose, SQLite may scan the
    # resources and probe the index once per row, which costs seconds on a large library.
    JOIN = "CROSS JOIN"
    TOKENIZE = "tokenize='porter unicode61 remove_diacritics 2'"

    def create(self, cursor) -> None:
        cursor.execute(
            "CREATE VIRTUAL TABLE IF NOT EXISTS library_fts USING fts5("
            f"title, authors, abstract, keywords, body, {self.TOKENIZE})")
        cursor.execute(
            "CREATE VIRTUAL TABLE IF NOT EXISTS library_fts_meta USING fts5("
            f"title, authors, abstract, keywords, {self.TOKENIZE})")

    def drop(self, cursor) -> None:
        cursor.execute("DROP TABLE IF EXISTS library_fts")
        cursor.execute("DROP TABLE IF EXISTS library_fts_meta")

    def upsert(self, cursor, pk: int, doc: dict) -> None:
        self.delete(cursor, pk)
        cursor.execute(
            "INSERT INTO library_fts (rowid, title, authors, abstract, keywords, body) "
            "VALUES (%s, %s, %s, %s, %s, %s)",
            [pk, doc["title"], doc["authors"], doc["abstract"], doc["keywords"], doc["body"]])
        cursor.execute(
            "INSERT INTO library_fts_meta (rowid, title, authors, abstract, keywords) "
            "VALUES (%s, %s, %s, %s, %s)",
            [pk, doc["title"], doc["authors"], doc["abstract"], doc["keywords"]])

    def delete(self, cursor, pk: int) -> None:
        cursor.execute("DELETE FROM library_fts WHERE rowid = %s", [pk])
        cursor.execute("DELETE FROM library_fts_meta WHERE rowid = %s", [pk])

    def _expression(self, terms: list[Term]) -> str:
        parts = []
        for term in terms:
            phrase = '"' + " ".join(term.words) + '"'
            parts.append(("NOT " if term.negated else "") + phrase)
        # FTS5 wants NOT between two expressions: put the positive terms first.
        parts.sort(key=lambda part: part.startswith("NOT "))
        return " ".join(parts)

    def _table(self, metadata_only: bool) -> str:
        return "library_fts_meta" if metadata_only else "library_fts"

    def source(self, terms: list[Term], *, metadata_only: bool, ranked: bool) -> Source:
        table = self._table(metadata_only)
        weights = "10.0, 4.0, 3.0, 2.0" + ("" if metadata_only else ", 1.0")
        score = f"-bm25({table}, {weights})" if ranked else "0.0"
        source = Source(table, f"{table}.rowid", score, [], f"{table} MATCH %s",
                        [self._expression(terms)])
        words = self._words(terms)
        if ranked and words:
            # BM25 first counts every document that holds each phrase of the query, and for a
            # phrase of common words that means checking word positions across the library.
            # A phrase's matches are scored on its words instead, counted from the index.
            source.score = "0.0"
            source.rescore = (f"SELECT rowid AS id, {score} AS score FROM {table} "  # nosec B608  # the engine's own SQL
                              f"WHERE {table} MATCH %s AND rowid")
            source.rescore_params = [words]
        return source

    @staticmethod
    def _words(terms: list[Term]) -> str:
        """The query's wanted words one by one, if any of them come in a phrase; else ""."""
        wanted = [term for term in terms if not term.negated]
        if all(len(term.words) == 1 for term in wanted):
            return ""
        words = dict.fromkeys(word for term in wanted for word in term.words)
        return " ".join(f'"{word}"' for word in words)

    def snippets(self, terms: list[Term], ids: list[int], *, metadata_only: bool) -> dict:
        if not ids or not terms:
            return {}
        table = self._table(metadata_only)
        marks = ", ".join(["%s"] * len(ids))
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT rowid, snippet({table}, -1, %s, %s, '…', 30) FROM {table}"  # nosec B608  # the engine's own table name
                f" WHERE {table} MATCH %s AND rowid IN ({marks})",
                [OPEN, CLOSE, self._expression(terms), *ids])
            return dict(cursor.fetchall())


class PostgresEngine(Engine):
    """PostgreSQL full-text search with the English configuration."""

    name = "postgresql"

    def create(self, cursor) -> None:
        cursor.execute(
            "CREATE TABLE IF NOT EXISTS library_searchdoc ("
            " resource_id integer PRIMARY KEY,"
            " meta_text text NOT NULL, body_text text NOT NULL,"
            " meta tsvector NOT NULL, body tsvector NOT NULL, full_doc tsvector NOT NULL)")
        cursor.execute("CREATE INDEX IF NOT EXISTS library_searchdoc_meta "
                       "ON library_searchdoc USING gin (meta)")
        cursor.execute("CREATE INDEX IF NOT EXISTS library_searchdoc_full "
                       "ON library_searchdoc USING gin (full_doc)")

    def drop(self, cursor) -> None:
        cursor.execute("DROP TABLE IF EXISTS library_searchdoc")

    # A tsvector holds at most 1 MB; text full of distinct numbers can exceed that well
    # before its length in characters says so. Try less text until it fits.
    BODY_STEPS = (400_000, 100_000, 0)

    def upsert(self, cursor, pk: int, doc: dict) -> None:
        from django.db import DatabaseError, transaction

        for limit in self.BODY_STEPS:
            try:
                with transaction.atomic():
                    self._upsert(cursor, pk, {**doc, "body": doc["body"][:limit]})
                return
            except DatabaseError:
                if limit == 0:
                    raise

    def _upsert(self, cursor, pk: int, doc: dict) -> None:
        meta_text = "\n".join([doc["title"], doc["authors"], doc["abstract"], doc["keywords"]])
        cursor.execute(
            "INSERT INTO library_searchdoc (resource_id, meta_text, body_text, meta, body,"
            " full_doc) SELECT v.id, v.mt, v.bt, v.m, v.b, v.m || v.b FROM (SELECT"
            " %s AS id, %s AS mt, %s AS bt,"
            " setweight(to_tsvector('english', %s), 'A') ||"
            " setweight(to_tsvector('english', %s), 'B') ||"
            " setweight(to_tsvector('english', %s), 'C') ||"
            " setweight(to_tsvector('english', %s), 'C') AS m,"
            " to_tsvector('english', %s) AS b) AS v"
            " ON CONFLICT (resource_id) DO UPDATE SET meta_text = EXCLUDED.meta_text,"
            " body_text = EXCLUDED.body_text, meta = EXCLUDED.meta, body = EXCLUDED.body,"
            " full_doc = EXCLUDED.full_doc",
            [pk, meta_text, doc["body"], doc["title"], doc["authors"], doc["abstract"],
             doc["keywords"], doc["body"]])

    def delete(self, cursor, pk: int) -> None:
        cursor.execute("DELETE FROM library_searchdoc WHERE resource_id = %s", [pk])

    def _tsquery(self, terms: list[Term]) -> tuple[str, list]:
        parts, params = [], []
        for term in terms:
            parts.append(("!! " if term.negated else "") + "phraseto_tsquery('english', %s)")
            params.append(" ".join(term.words))
        parts.sort(key=lambda part: part.startswith("!!"))
        return "(" + " && ".join(parts) + ")", params

    def source(self, terms: list[Term], *, metadata_only: bool, ranked: bool) -> Source:
        tsquery, params = self._tsquery(terms)
        column = "library_searchdoc." + ("meta" if metadata_only else "full_doc")
        if not ranked:
            return Source("library_searchdoc", "library_searchdoc.resource_id", "0.0", [],
                          f"{column} @@ {tsquery}", params)
        return Source("library_searchdoc", "library_searchdoc.resource_id",
                      f"ts_rank({column}, {tsquery})", params, f"{column} @@ {tsquery}", params)

    def snippets(self, terms: list[Term], ids: list[int], *, metadata_only: bool) -> dict:
        if not ids or not terms:
            return {}
        tsquery, params = self._tsquery(terms)
        text = "meta_text" if metadata_only else (
            f"CASE WHEN body @@ {tsquery} THEN body_text ELSE meta_text END")
        options = f"StartSel={OPEN}, StopSel={CLOSE}, MaxWords=45, MinWords=20, MaxFragments=2"
        case_params = [] if metadata_only else params
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT resource_id, ts_headline('english', left({text}, 200000), {tsquery}, %s)"  # nosec B608  # fixed SQL; values are parameters
                f" FROM library_searchdoc WHERE resource_id = ANY(%s)",
                [*case_params, *params, options, list(ids)])
            return dict(cursor.fetchall())


def engine_for(vendor: str):
    return PostgresEngine() if vendor == "postgresql" else Fts5Engine()


def engine():
    return engine_for(connection.vendor)


# --- Keeping the index ----------------------------------------------------------------------

def document(resource: Resource) -> dict:
    keywords = [resource.publisher, resource.organisation.name,
                *(theme.name for theme in resource.themes.all()),
                *(audience.name for audience in resource.audiences.all())]
    texts = ResourceFile.objects.filter(
        resource=resource, extraction=ResourceFile.Extraction.DONE).values_list("text", flat=True)
    return {
        "title": resource.title,
        "authors": "\n".join(resource.author_list),
        "abstract": resource.abstract,
        "keywords": "\n".join(k for k in keywords if k),
        "body": "\n\n".join(texts)[:BODY_LIMIT],
    }


def index_resource(resource_id: int) -> None:
    """Bring one resource's entry up to date: indexed while published, absent otherwise."""
    resource = (Resource.objects.select_related("organisation")
                .prefetch_related("themes", "audiences").filter(pk=resource_id).first())
    with connection.cursor() as cursor:
        if resource is None or not resource.is_published:
            engine().delete(cursor, resource_id)
        else:
            engine().upsert(cursor, resource.pk, document(resource))
    caching.changed()


def clear() -> None:
    """Empty the index (tests that flush the database call this too)."""
    current = engine()
    with connection.cursor() as cursor:
        current.drop(cursor)
        current.create(cursor)
    caching.changed()


def rebuild() -> int:
    """Index every published resource again, from nothing."""
    clear()
    count = 0
    for pk in Resource.objects.filter(status=Resource.Status.PUBLISHED).values_list(
            "pk", flat=True).iterator():
        index_resource(pk)
        count += 1
    return count


# --- Searching ------------------------------------------------------------------------------

# Facets are counted exactly up to this many hits. Above it they are counted on a fixed sample
# of about FACET_SAMPLE hits and scaled up, and the page says "about": counting every facet of
# 90,000 hits took longer than the search itself. The sample is drawn from the person's own
# hits, so an estimate never counts anything they may not see; the total is always exact.
EXACT_FACETS = 5_000
FACET_SAMPLE = 5_000

RESOURCE = f'"{Resource._meta.db_table}"'  # as the ORM writes it in the access rules' SQL

ORDER_SQL = {
    "relevance": "score DESC, published_at DESC, id DESC",
    "newest": "published_at DESC, id DESC",
    "oldest": "published_at ASC, id ASC",
    "year": "year IS NULL, year DESC, id DESC",
    "title": "title_key ASC, id ASC",
}


def _filtered(user, query: Query):
    qs = policy.visible_resources(
        user, Resource.objects.filter(status=Resource.Status.PUBLISHED))
    if query.types:
        qs = qs.filter(type__in=query.types)
    if query.countries:
        qs = qs.filter(country__in=query.countries)
    if query.languages:
        qs = qs.filter(language__in=query.languages)
    if query.organisations:  # a subquery, not a join: see _where
        qs = qs.filter(organisation_id__in=Organisation.objects.filter(
            slug__in=query.organisations).values("pk"))
    if query.year_from is not None:
        qs = qs.filter(year__gte=query.year_from)
    if query.year_to is not None:
        qs = qs.filter(year__lte=query.year_to)
    for slug in query.themes:
        qs = qs.filter(pk__in=Resource.themes.through.objects.filter(
            theme__slug=slug).values("resource_id"))
    for slug in query.audiences:
        qs = qs.filter(pk__in=Resource.audiences.through.objects.filter(
            audience__slug=slug).values("resource_id"))
    return qs


def _where(qs) -> tuple[str, list]:
    """A queryset's condition on the resource table, to apply where the search joins each of
    the engine's matches to its resource. Refuses a queryset that needs a join of its own."""
    sql, params = qs.order_by().values("pk").query.sql_with_params()
    select = f'SELECT {RESOURCE}."id" AS "pk" FROM {RESOURCE}'  # nosec B608  # the resource table's name
    if sql == select:
        return "1 = 1", []
    if not sql.startswith(f"{select} WHERE "):
        raise ValueError(f"search cannot apply this condition on its own: {sql[:300]}")
    return f"({sql[len(select) + len(' WHERE '):]})", list(params)


def _columns(order: str) -> list[tuple[str, str]]:
    """What facets and sorting need of each hit, read while its resource's row is at hand:
    (name, expression) pairs."""
    names = ["type", "country", "language", "organisation_id", "year", "published_at"]
    columns = [(name, f"{RESOURCE}.{name}") for name in names]
    if order == "title":
        columns.append(("title_key", f"lower({RESOURCE}.title)"))
    return columns


def _hits_sql(user, query: Query, window: int | None = None) -> tuple[str, list]:
    """A common table expression ``hits``: every resource the person may see that matches
    the query, with its id, score, ``files_open`` and the columns facets and sorting need.
    Files are matched where the person may open them, descriptions alone elsewhere. The
    engine's matches come first and each is checked against the access rules by primary key
    as it comes, so a rare word costs little however large the library grows; only the
    matches that are kept are scored. With a ``window``, the engine hands its matches over
    newest first and the search stops after ``window + 1`` hits: a common word then costs
    the same in a library of a million as in one of ten thousand."""
    base = _filtered(user, query)
    opens = policy.files_q(user)
    selected = ", ".join(f"{expression} AS {name}" for name, expression in _columns(query.order))
    terms = query.terms
    if not terms:
        visible, visible_params = _where(base)
        readable, readable_params = _where(Resource.objects.filter(opens))
        limit, limit_params = "", []
        if window:  # the newest first, from the index on the publication date
            limit, limit_params = f" ORDER BY {LISTING_SCAN} LIMIT %s", [window + 1]
        return (f"hits AS MATERIALIZED (SELECT {RESOURCE}.id AS id, 0.0 AS score, CASE WHEN "  # nosec B608  # conditions compiled by Django, values are parameters
                f"{readable} THEN 1 ELSE 0 END AS files_open, {selected} FROM {RESOURCE} "
                f"WHERE {visible}{limit})", [*readable_params, *visible_params, *limit_params])
    current = engine()
    selects, params, parts = [], [], []
    for files_open, qs in ((1, base.filter(opens)), (0, base.exclude(opens))):
        source = current.source(terms, metadata_only=not files_open,
                                ranked=query.order == "relevance")
        allowed, allowed_params = _where(qs)
        select = (
            f"SELECT {RESOURCE}.id AS id, {source.score} AS score, {files_open} AS files_open, "  # nosec B608  # as above
            f"{selected} FROM {source.table} {current.JOIN} {RESOURCE} "
            f"ON {RESOURCE}.id = {source.id} WHERE {source.match} AND {allowed}")
        params += [*source.score_params, *source.match_params, *allowed_params]
        if window and selects:
            # Once the first part holds more than the window, nothing older than its oldest
            # hit can be among the newest: the engine is told to stop there.
            select += (f" AND {source.id} >= (SELECT CASE WHEN count(*) > %s THEN min(id) "  # nosec B608  # the engine's column
                       f"ELSE 0 END FROM w1)")
            params.append(window)
        if window:
            select = f"w{files_open} AS MATERIALIZED ({select} ORDER BY {source.id} DESC LIMIT %s)"  # nosec B608  # as above
            params.append(window + 1)
            parts.append(f"SELECT * FROM w{files_open}")  # nosec B608  # a number
            if source.rescore:
                select += (f", s{files_open} AS MATERIALIZED ({source.rescore} >= "  # nosec B608  # as above
                           f"(SELECT COALESCE(min(id), 0) FROM w{files_open}))")
                params += source.rescore_params
                names = ["id", "score", "files_open", *(name for name, _ in _columns(query.order))]
                columns = ", ".join("s.score AS score" if name == "score"
                                    else f"w.{name} AS {name}" for name in names)
                # A plain join, which lets the database index the scores as it goes: every
                # document holding a phrase holds its words.
                parts[-1] = (f"SELECT {columns} FROM w{files_open} w "  # nosec B608  # as above
                             f"JOIN s{files_open} s ON s.id = w.id")
        selects.append(select)
    if window:
        newest = (f"hits AS MATERIALIZED (SELECT * FROM ({' UNION ALL '.join(parts)}) AS u "  # nosec B608  # as above
                  "ORDER BY id DESC LIMIT %s)")
        return ", ".join([*selects, newest]), [*params, window + 1]
    return f"hits AS MATERIALIZED ({' UNION ALL '.join(selects)})", params


def _results_sql(hits: str, order: str, window: int | None = None, scan: str = "") -> str:
    """One statement for the total, the facets and a page of results, so matching and the
    access checks run once per search. Facets count ``counted``: every hit, or above
    EXACT_FACETS a sample of them picked by a multiplicative hash of the id (the same
    resources for the same hits, whatever the order or the page). With a ranking window,
    ``hits`` holds one hit more than the window, to tell whether there are more; the rest
    works on the window's hits (``kept``, the first in the ``scan`` order) alone."""
    themes = Resource.themes.through._meta.db_table
    audiences = Resource.audiences.through._meta.db_table
    join = engine().JOIN
    kept, windowed, lowest = "hits", "", []
    if window:
        kept = "kept"
        windowed = (f", kept AS MATERIALIZED (SELECT * FROM hits ORDER BY {scan} "  # nosec B608  # fixed order, a number
                    f"LIMIT {int(window)})")
        lowest = ["SELECT 'lowest', CAST(min(published_at) AS text), min(id), 0 FROM kept"]
    sample = (f"n.total <= {EXACT_FACETS} OR (h.id %% 2147483648) * 2654435761 %% 4294967296 "
              f"< 4294967296 * {FACET_SAMPLE} / NULLIF(n.total, 0)")
    selects = [
        "SELECT 'total', '', total, 0 FROM n",
        "SELECT 'counted', '', count(*), 0 FROM counted",
        *lowest,
        "SELECT 'type', type, count(*), 0 FROM counted GROUP BY type",
        "SELECT 'country', country, count(*), 0 FROM counted WHERE country <> '' "
        "GROUP BY country",
        "SELECT 'language', language, count(*), 0 FROM counted GROUP BY language",
        "SELECT 'organisation', CAST(organisation_id AS text), count(*), 0 FROM counted "
        "GROUP BY organisation_id",
        "SELECT 'year', CAST(year AS text), count(*), 0 FROM counted WHERE year IS NOT NULL "
        "GROUP BY year",
        f"SELECT 'theme', CAST(t.theme_id AS text), count(*), 0 FROM counted c "  # nosec B608  # fixed names
        f"{join} {themes} t ON t.resource_id = c.id GROUP BY t.theme_id",
        f"SELECT 'audience', CAST(a.audience_id AS text), count(*), 0 FROM counted c "  # nosec B608  # fixed names
        f"{join} {audiences} a ON a.resource_id = c.id GROUP BY a.audience_id",
        # The page is taken before it is numbered: numbering every hit cost more than the rest.
        f"SELECT 'page', CAST(id AS text), pos, files_open FROM (SELECT id, files_open, "  # nosec B608  # order from ORDER_SQL
        f"row_number() OVER (ORDER BY {order}) AS pos FROM (SELECT * FROM {kept} "
        f"ORDER BY {order} LIMIT %s OFFSET %s) AS p) AS q",
    ]
    return (f"WITH {hits}, n AS MATERIALIZED (SELECT count(*) AS total FROM hits){windowed}, "  # nosec B608  # parts built above
            f"counted AS MATERIALIZED (SELECT h.* FROM {kept} h CROSS JOIN n WHERE {sample}) "
            + " UNION ALL ".join(selects))


def _about(estimate: float) -> int:
    """An estimate to two significant figures, so it does not look more precise than it is."""
    if estimate < 10:
        return max(1, round(estimate))
    unit = 10 ** (int(math.log10(estimate)) - 1)
    return round(estimate / unit) * unit


def _facets(rows, scale: float | None = None) -> dict[str, Facet]:
    """Facets from (name, value, count) rows; ``scale`` turns counts of a sample into
    estimates for all the hits."""
    from django_countries import countries

    from hub.library.models import LANGUAGES

    counts: dict[str, dict[str, int]] = {name: {} for name in FACETS}
    for name, value, count in rows:
        counts[name][str(value)] = count if scale is None else _about(count * scale)
    labels = {
        "type": dict(Resource.Type.choices),
        "language": dict(LANGUAGES),
        "country": dict(countries),
        "theme": {str(t.pk): (t.slug, t.name) for t in Theme.objects.all()},
        "audience": {str(a.pk): (a.slug, a.name) for a in Audience.objects.all()},
        "organisation": {str(o.pk): (o.slug, o.name) for o in Organisation.objects.filter(
            pk__in=[int(v) for v in counts["organisation"]])},
    }
    titles = {"type": "Type", "theme": "Theme", "audience": "Audience", "country": "Country",
              "language": "Language", "organisation": "Organisation", "year": "Year"}
    facets = {}
    for name in FACETS:
        values = []
        for raw, count in counts[name].items():
            label = labels.get(name, {}).get(raw, raw)
            value = raw
            if isinstance(label, tuple):
                value, label = label
            values.append((value, str(label), count))
        if name == "year":
            values.sort(key=lambda item: item[0], reverse=True)
        else:
            values.sort(key=lambda item: (-item[2], item[1]))
        facets[name] = Facet(name, titles[name], values, approximate=scale is not None)
    return facets


def _escape_snippet(raw: str) -> str:
    return html.escape(raw).replace(OPEN, "<mark>").replace(CLOSE, "</mark>")


# The order in which a windowed search takes its hits: the engine's matches newest added
# first, or the whole library newest published first.
MATCH_SCAN = "id DESC"
LISTING_SCAN = "published_at DESC, id DESC"


def rank_window(query: Query) -> int | None:
    """How many hits a search looks at, at most: the newest, so that a word found in most of
    the library, or the listing of all of it, costs no more as the library grows. Scoring
    every one of 90,000 matches took longer than the whole of the rest of a search, and a word
    that common says little about which of them fits best. "Best match" with words and
    "Newest first" without them are windowed; other orders see every hit."""
    if (query.order == "relevance") if query.terms else (query.order == "newest"):
        return max(1, settings.LIBRARY_RANK_WINDOW)
    return None


def search(user, query: Query) -> Results:
    """What this person may find for this query: a page of hits, the total and the facets."""
    window = rank_window(query)
    last = MAX_PAGE if window is None else math.ceil(window / query.per_page)
    query.page = max(1, min(query.page, last))
    hits_sql, params = _hits_sql(user, query, window)
    offset = (query.page - 1) * query.per_page
    with connection.cursor() as cursor:
        scan = MATCH_SCAN if query.terms else LISTING_SCAN
        cursor.execute(_results_sql(hits_sql, ORDER_SQL[query.order], window, scan),
                       [*params, query.per_page, offset])
        rows = cursor.fetchall()
    numbers = {kind: (value, number) for kind, value, number, _ in rows
               if kind in ("total", "counted", "lowest")}
    total, counted = numbers["total"][1], numbers["counted"][1]
    estimated = window is not None and total > window
    if estimated:
        published, lowest = numbers["lowest"]
        total = (_estimate(window, lowest) if query.terms
                 else _estimate_listing(window, published))
    scale = total / counted if (estimated or total > EXACT_FACETS) and counted else None
    facets = _facets([row[:3] for row in rows if row[0] in FACETS], scale)
    page = sorted((number, int(value), bool(files_open))
                  for kind, value, number, files_open in rows if kind == "page")
    return Results(query, _hits(query, page), total, facets, estimated, window)


def _estimate(found: int, lowest: int) -> int:
    """How many hits in all, from the ``found`` newest ones, which reach back to id
    ``lowest``: their density among the ids, applied to every id the library has given out.
    Only the person's own hits and the range of ids go into it, never a count of matches, so
    the estimate cannot tell anyone how often a word occurs where they may not look."""
    # Two lookups, not one query with both: a database finds either end of the primary key
    # at once, but asked for both together it may read every row.
    ids = Resource.objects.order_by("pk").values_list("pk", flat=True)
    low, high = ids.first(), ids.last()
    if high is None or high < lowest:
        return found
    return max(found, _about(found * (high - low + 1) / (high - lowest + 1)))


def _estimate_listing(found: int, since: str) -> int:
    """How many resources the person may see in all, from the ``found`` newest, published
    since ``since``: their share of everything published since then, applied to everything
    published. Only the number of published resources goes into it, as with the ids above."""
    published = Resource.objects.filter(status=Resource.Status.PUBLISHED)
    since = parse_datetime(since)
    if timezone.is_naive(since):  # SQLite keeps the time in UTC, without saying so
        since = timezone.make_aware(since, UTC)
    recent = published.filter(published_at__gte=since).count()
    if not recent:
        return found
    return max(found, _about(found * published.count() / recent))


def _hits(query: Query, page: list[tuple[int, int, bool]]) -> list[Hit]:
    """The page's resources with their snippets, taken from the files only where the person
    may open them (which the search already knows: it matched their files or not)."""
    ids = [pk for _, pk, _ in page]
    open_ids = {pk for _, pk, files_open in page if files_open}
    resources = Resource.objects.select_related("organisation").in_bulk(ids)
    found = [resources[pk] for pk in ids if pk in resources]
    snippets = {}
    terms = query.terms
    if terms:
        current = engine()
        snippets.update(current.snippets(terms, [r.pk for r in found if r.pk in open_ids],
                                         metadata_only=False))
        snippets.update(current.snippets(terms, [r.pk for r in found if r.pk not in open_ids],
                                         metadata_only=True))
    return [Hit(resource, _escape_snippet(snippets.get(resource.pk) or resource.abstract[:300]),
                resource.pk in open_ids) for resource in found]


def visible_ids_for(user, query: Query) -> list[int]:
    """Every matching resource's id in result order (within the ranking window, as the pages
    show them), for exporting a whole result list."""
    window = rank_window(query)
    hits_sql, params = _hits_sql(user, query, window)
    scan = MATCH_SCAN if query.terms else LISTING_SCAN
    kept = f"(SELECT * FROM hits ORDER BY {scan} LIMIT {int(window)}) AS k" if window else "hits"  # nosec B608  # fixed order, a number
    with connection.cursor() as cursor:
        cursor.execute(f"WITH {hits_sql} SELECT id FROM {kept} "  # nosec B608  # order from ORDER_SQL
                       f"ORDER BY {ORDER_SQL[query.order]} LIMIT 1000", params)
        return [row[0] for row in cursor.fetchall()]
