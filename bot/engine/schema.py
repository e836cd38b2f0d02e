"""The knowledge-base contract: pydantic models for myths, exercises and sources.

Every YAML file under a knowledge dir (and every per-guild file a moderator writes) is one
`KnowledgeFile`: a mapping with any of the keys `sources`, `myths` and `exercises`.
Limits follow Discord's embed limits so that anything that validates also renders.
"""


import re
from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, model_validator

# Discord embed limits: title 256, description 4096, field value 1024, footer 2048.
TITLE_MAX = 256
ANSWER_MAX = 1500
MORE_MAX = 3500
PHRASING_MAX = 300
LIST_ITEM_MAX = 400
SUMMARY_MAX = 1024
SAFETY_MAX = 700
# Entries tagged with any of these must carry a `safety` note.
SAFETY_TAGS = ("surgery", "injections", "eating", "pain")
_SAFETY_TAGS_TEXT = ", ".join(SAFETY_TAGS[:-1]) + f" or {SAFETY_TAGS[-1]}"

SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
SOURCE_ID_PATTERN = r"^[a-z0-9]+(?:[_-][a-z0-9]+)*$"
DOI_PATTERN = r"^10\.\d{4,9}/\S+$"



def _yaml_true_is_verdict(value: object) -> object:
    # YAML reads an unquoted `true` as a boolean; curators mean the verdict "true".
    return "true" if value is True else value


Verdict = Annotated[
    Literal["myth", "true", "partly true", "depends", "unproven"], BeforeValidator(_yaml_true_is_verdict)
]
EvidenceGrade = Literal["strong", "moderate", "limited", "expert opinion"]
GRADES_WEAKEST_FIRST: tuple[EvidenceGrade, ...] = ("expert opinion", "limited", "moderate", "strong")
Design = Literal[
    "meta-analysis", "systematic-review", "rct", "trial", "cohort", "cross-sectional", "emg", "cadaver",
    "imaging", "genetic", "case-series", "survey", "narrative-review", "guideline", "regulator", "expert",
]
DESIGN_HELP = (
    "What kind of study or document this is: meta-analysis, systematic-review, rct (randomised controlled "
    "trial), trial (non-randomised or uncontrolled intervention), cohort, cross-sectional, emg (muscle "
    "activation measured in a lab), cadaver, imaging, genetic (e.g. GWAS), case-series, survey, narrative-review, "
    "guideline (position stands, society advisories), regulator (e.g. FDA), expert (blogs, news releases, "
    "opinion). The design limits the evidence grade of the entries that cite it."
)
REVIEWS = ("meta-analysis", "systematic-review", "narrative-review")
SYNTHESES = ("meta-analysis", "systematic-review")
MODERATE_ALONE = (*SYNTHESES, "rct", "cohort", "regulator", "guideline")
MODERATE_IN_PAIRS = ("trial", "survey", "case-series", "cross-sectional", "genetic")
GRADE_NEEDS: dict[EvidenceGrade, str] = {
    "strong": "a meta-analysis or systematic review, or at least two RCTs",
    "moderate": "one meta-analysis, systematic review, RCT, cohort study, regulator or guideline, or at least two "
                "trials, surveys, case series, cross-sectional or genetic studies",
    "limited": "at least one source whose design is not expert",
    "expert opinion": "nothing",
}
GRADE_RULE = (
    "How strong the evidence is. The grade may be no stronger than the designs of the cited bibliography "
    "sources can carry: " + "; ".join(f"{grade} needs {needs}" for grade, needs in GRADE_NEEDS.items()
                                      if grade != "expert opinion")
    + ". EMG, cadaver and imaging studies alone (or reviews of them, see reviewed_design) allow at most limited; "
    "expert opinion needs nothing. Free links (moderator entries) are not counted, and an entry that cites only "
    "links is not checked."
)


def strongest_grade(designs: Iterable[str]) -> EvidenceGrade:
    """The strongest evidence grade that sources of these designs can carry (see GRADE_RULE)."""
    counts = Counter(designs)
    if any(counts[d] for d in SYNTHESES) or counts["rct"] >= 2:
        return "strong"
    if any(counts[d] for d in MODERATE_ALONE) or sum(counts[d] for d in MODERATE_IN_PAIRS) >= 2:
        return "moderate"
    if any(design != "expert" for design in counts):
        return "limited"
    return "expert opinion"


def _lowercase(value: object) -> object:
    # The vetted bibliography writes statuses in capitals (CONFIRMED, PARTLY).
    return value.lower() if isinstance(value, str) else value


SourceStatus = Annotated[Literal["confirmed", "partly"], BeforeValidator(_lowercase)]


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")  # all but tab and line breaks


def _not_blank(value: str) -> str:
    # Invisible control characters show nothing in an embed and Discord may refuse them, which would
    # silence the entry; dropping them (rather than refusing) also lets entries saved before load.
    value = _CONTROL.sub("", value).strip()
    if not value:
        raise ValueError("must not be empty or only whitespace")
    return value


_NOT_BLANK = AfterValidator(_not_blank)

# Text fields: stripped, never blank, at most so many characters (the limits follow Discord's embeds).
Slug = Annotated[str, StringConstraints(pattern=SLUG_PATTERN, max_length=64)]
SourceId = Annotated[str, StringConstraints(pattern=SOURCE_ID_PATTERN, max_length=64)]
Title = Annotated[str, StringConstraints(max_length=TITLE_MAX, strip_whitespace=True), _NOT_BLANK]
Phrasing = Annotated[str, StringConstraints(max_length=PHRASING_MAX, strip_whitespace=True), _NOT_BLANK]
ListItem = Annotated[str, StringConstraints(max_length=LIST_ITEM_MAX, strip_whitespace=True), _NOT_BLANK]
Tag = Annotated[str, StringConstraints(max_length=40, strip_whitespace=True), _NOT_BLANK]
Keyword = Annotated[str, StringConstraints(max_length=60, strip_whitespace=True), _NOT_BLANK]
Name = Annotated[str, StringConstraints(max_length=80, strip_whitespace=True), _NOT_BLANK]
Journal = Annotated[str, StringConstraints(max_length=300, strip_whitespace=True), _NOT_BLANK]
Authors = Annotated[str, StringConstraints(max_length=500, strip_whitespace=True), _NOT_BLANK]
Notes = Annotated[str, StringConstraints(max_length=2000, strip_whitespace=True), _NOT_BLANK]
Answer = Annotated[str, StringConstraints(max_length=ANSWER_MAX, strip_whitespace=True), _NOT_BLANK]
More = Annotated[str, StringConstraints(max_length=MORE_MAX, strip_whitespace=True), _NOT_BLANK]
Summary = Annotated[str, StringConstraints(max_length=SUMMARY_MAX, strip_whitespace=True), _NOT_BLANK]
Safety = Annotated[str, StringConstraints(max_length=SAFETY_MAX, strip_whitespace=True), _NOT_BLANK]
Url = Annotated[str, StringConstraints(pattern=r"^https?://\S+$", max_length=500)]


def _unique(values: list[str]) -> list[str]:
    seen: set[str] = set()
    for value in values:
        key = value.casefold()
        if key in seen:
            raise ValueError(f"duplicate item {value!r}")
        seen.add(key)
    return values


_UNIQUE = AfterValidator(_unique)

# Lists whose items must differ (case-insensitively), with their length limits.
Phrasings = Annotated[list[Phrasing], Field(min_length=0, max_length=200), _UNIQUE]
RequiredPhrasings = Annotated[list[Phrasing], Field(min_length=1, max_length=200), _UNIQUE]
Keywords = Annotated[list[Keyword], Field(min_length=0, max_length=200), _UNIQUE]
SourceIds = Annotated[list[SourceId], Field(min_length=0, max_length=200), _UNIQUE]
Links = Annotated[list[Url], Field(min_length=0, max_length=10), _UNIQUE]
Related = Annotated[list[Slug], Field(min_length=0, max_length=25), _UNIQUE]
Tags = Annotated[list[Tag], Field(min_length=0, max_length=25), _UNIQUE]
Muscles = Annotated[list[Name], Field(min_length=1, max_length=10), _UNIQUE]
Names = Annotated[list[Name], Field(min_length=0, max_length=10), _UNIQUE]
Supports = Annotated[list[ListItem], Field(min_length=0, max_length=12), _UNIQUE]


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Source(Model):
    """One bibliography entry. Fields are copied from a vetted record, never guessed."""

    id: SourceId
    title: Title
    authors: Authors | None = None
    short_author: Name | None = Field(
        default=None, description="How short citations name the authors when they cannot be shortened from "
                                  "`authors`, e.g. an organisation's short name ('ASERF').")
    journal: Journal | None = None
    journal_abbrev: Name | None = Field(
        default=None, description="The journal's NLM abbreviation ('Front Physiol'), used in short citations.")
    year: int | None = Field(default=None, ge=1800, le=2100)
    volume: str | None = None
    issue: str | None = None
    pages: str | None = None
    doi: Annotated[str, StringConstraints(pattern=DOI_PATTERN)] | None = None
    pmid: Annotated[str, StringConstraints(pattern=r"^\d{1,9}$")] | None = None
    url: Url | None = None
    design: Design = Field(description=DESIGN_HELP)
    status: SourceStatus = Field(
        default="confirmed",
        description="As in the vetted bibliography: confirmed (every field seen) or partly (only some were; "
                    "cite only those). Partly vetted sources count towards grades as usual.")
    reviewed_design: Design | None = Field(
        default=None,
        description="Only for a review or meta-analysis whose studies are all of one weaker design, e.g. a "
                    "systematic review of EMG studies: that design. Grades then count the review as that design.")
    supports: Supports = Field(
        default=[], description="What the source actually found, as the vetted bibliography words it.")
    notes: Notes | None = None

    @model_validator(mode="after")
    def _reviewed_design_is_for_reviews(self) -> "Source":
        if self.reviewed_design and self.design not in REVIEWS:
            raise ValueError(f"reviewed_design is only for reviews ({', '.join(REVIEWS)}), not a {self.design}")
        return self

    @property
    def counts_as(self) -> str:
        """The design this source lends an entry's grade."""
        return self.reviewed_design or self.design

    @property
    def link(self) -> str | None:
        """The link readers get: DOI first, then PubMed, then the page it was seen on."""
        if self.doi:
            return f"https://doi.org/{self.doi}"
        if self.pmid:
            return f"https://pubmed.ncbi.nlm.nih.gov/{self.pmid}/"
        return self.url


class Stewardship(Model):
    """Who changed an entry and when; filled in for moderator entries, optional for curated ones."""

    created_by: str | None = None
    created_at: datetime | None = None
    updated_by: str | None = None
    updated_at: datetime | None = None


class EntryBase(Model):
    id: Slug
    title: Title
    questions: RequiredPhrasings
    aliases: Phrasings = []
    keywords: Keywords = []
    evidence: EvidenceGrade = Field(description=GRADE_RULE)
    sources: SourceIds = []
    links: Links = []
    related: Related = []
    tags: Tags = Field(
        default=[], description=f"Topics. An entry tagged {_SAFETY_TAGS_TEXT} must carry a `safety` note.")
    safety: Safety | None = Field(
        default=None,
        description="Shown prominently with the answer: when to see a clinician and which symptoms are an "
                    "emergency. Plain text, 2-4 short sentences, common medical guidance only. Required for "
                    f"entries tagged {_SAFETY_TAGS_TEXT}.")
    retired: bool = False
    stewardship: Stewardship | None = None

    @property
    def phrasings(self) -> tuple[str, ...]:
        """Every text a question can match: the title, the phrasings and the aliases."""
        return (self.title, *self.questions, *self.aliases)


class MythEntry(EntryBase):
    kind: Literal["myth"] = "myth"
    verdict: Verdict
    answer: Answer
    more: More | None = None


class ExerciseEntry(EntryBase):
    kind: Literal["exercise"] = "exercise"
    summary: Summary
    muscles: Muscles
    secondary_muscles: Names = []
    equipment: Names = []
    steps: list[ListItem] = Field(min_length=1, max_length=12)
    cues: list[ListItem] = Field(default=[], max_length=12)
    mistakes: list[ListItem] = Field(default=[], max_length=12)
    easier: list[ListItem] = Field(default=[], max_length=8)
    harder: list[ListItem] = Field(default=[], max_length=8)
    evidence_summary: Summary


Entry = MythEntry | ExerciseEntry


class OutOfScope(Model):
    """A topic members ask about that the knowledge base does not answer (creatine, joint pain, ...).

    Its phrasings teach the matcher what a near miss looks like: when a question is closer to one of
    these than to any curated entry, the bot says it has no answer rather than answering wrongly."""

    id: Slug
    title: Title
    questions: RequiredPhrasings


class KnowledgeFile(Model):
    """One YAML file of the knowledge base."""

    sources: list[Source] = []
    myths: list[MythEntry] = []
    exercises: list[ExerciseEntry] = []
    out_of_scope: list[OutOfScope] = []


def slugify(text: str) -> str:
    """Turn a title into an id: 'Hip dips & fat!' -> 'hip-dips-fat'."""
    slug = re.sub(r"[^a-z0-9]+", "-", text.casefold()).strip("-")
    return slug[:64].rstrip("-") or "entry"
