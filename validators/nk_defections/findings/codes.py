"""Every rule code, registered once with its severity and a one-line description.

``docs/rules.md`` is generated from this registry (``python -m nk_defections.generate``).
"""

from __future__ import annotations

from nk_defections.findings.issues import Severity, register

E, W, N = Severity.ERROR, Severity.WARNING, Severity.INFO  # N: a note

# Files and their encoding
FILE_UNREADABLE = register(
    "file.unreadable", E, "A path is missing, is a directory, or cannot be read."
)
FILE_EMPTY = register(
    "file.empty", E, "A file holds nothing (a CSV needs at least its header row)."
)
FILE_ENCODING = register(
    "file.encoding", E, "A file is not UTF-8 (UTF-16 or invalid bytes); a UTF-8 BOM is accepted."
)
FILE_BINARY = register("file.binary", E, "A file holds NUL bytes: it is not text.")
FILE_UNKNOWN_KIND = register(
    "file.unknown-kind", E, "A contributed file is neither *.json, *.jsonl nor <resource>.csv."
)

# CSV structure
CSV_MALFORMED = register(
    "csv.malformed",
    E,
    "A quote out of place (a field never closed, text after a closing quote, a quote in a cell "
    "that does not start with one) or a CR outside quotes that ends no CRLF line.",
)
CSV_RAGGED_ROW = register(
    "csv.ragged-row", E, "A row has more or fewer cells than the header, or is blank."
)
CSV_DELIMITER = register(
    "csv.delimiter",
    E,
    "A CSV file is separated by ';', TAB or '|' instead of commas (a spreadsheet's export).",
)
CSV_UNKNOWN_COLUMN = register(
    "csv.unknown-column", E, "The header names a column the table does not have."
)
CSV_MISSING_COLUMN = register("csv.missing-column", E, "The header lacks a column of the table.")
CSV_DUPLICATE_COLUMN = register("csv.duplicate-column", E, "The header names a column twice.")

# JSON structure
JSON_SYNTAX = register(
    "json.syntax", E, "A file or line is not valid JSON (empty, truncated, or not JSON)."
)
JSON_DUPLICATE_KEY = register("json.duplicate-key", E, "An object has the same key twice.")
JSON_CONSTANT = register("json.constant", E, "NaN, Infinity or -Infinity: not JSON numbers.")
JSON_TOO_DEEP = register("json.too-deep", E, "Nesting deeper than any record needs.")
JSON_TOP_LEVEL = register(
    "json.top-level",
    E,
    "A contribution is not an object of resource names (a bare array, a string).",
)
JSON_UNKNOWN_RESOURCE = register(
    "json.unknown-resource", E, "A resource name the package does not have."
)
JSON_EXAMPLE = register(
    "json.example",
    W,
    'A contribution marked "example": true (the template\'s invented records): `add` refuses it.',
)
JSON_NUMBER_RANGE = register(
    "json.number-range", E, "A number too large for any field (it overflows a 64-bit float)."
)

# Schema: one code per JSON Schema / Table Schema keyword
SCHEMA_REQUIRED = register("schema.required", E, "A required field is missing or empty.")
SCHEMA_TYPE = register(
    "schema.type", E, "A value has the wrong type (text where a number is due, null, an object)."
)
SCHEMA_ENUM = register("schema.enum", E, "A value is not in the field's vocabulary.")
SCHEMA_PATTERN = register(
    "schema.pattern", E, "A value does not match the field's pattern (ids, codes, hashes, tags)."
)
SCHEMA_MIN_LENGTH = register("schema.min-length", E, "A text is shorter than allowed.")
SCHEMA_MAX_LENGTH = register(
    "schema.max-length", E, "A text is longer than allowed (in characters)."
)
SCHEMA_MINIMUM = register("schema.minimum", E, "A number is below the field's minimum.")
SCHEMA_MAXIMUM = register("schema.maximum", E, "A number is above the field's maximum.")
SCHEMA_FORMAT = register("schema.format", E, "A value is not of the field's format (a URI).")
SCHEMA_ADDITIONAL_PROPERTIES = register(
    "schema.additional-properties", E, "A record has a key its schema does not allow."
)

# Dates and countries
DATE_INVALID = register(
    "date.invalid", E, "A date is not in the EDTF subset, or is not a calendar date (2023-02-30)."
)
DATE_BOUNDS = register(
    "date.bounds-mismatch",
    E,
    "A release's derived <field>_min/_max/_kind differs from the bounds or kind of its EDTF value.",
)
DATE_ORDER = register(
    "date.order",
    E,
    "Dates out of order: an end before its start, a posting outside its holder's life.",
)
COUNTRY_UNKNOWN = register(
    "country.unknown", E, "A country code is not a current ISO 3166-1 alpha-3 code."
)

# One table
TABLE_DUPLICATE_ID = register(
    "table.duplicate-id", E, "An id occurs more than once (reported at every later occurrence)."
)

# One record
RECORD_END_REASON = register(
    "record.end-reason-without-end", E, "A posting has an end_reason but its status is not ended."
)
RECORD_CURRENT_ENDED = register(
    "record.current-with-end-date", E, "A posting with status current has an end date."
)
RECORD_GROUP_SIZE = register(
    "record.group-size",
    E,
    "group_size_min exceeds group_size_max, or an individual has group sizes.",
)
RECORD_SELF_REFERENCE = register(
    "record.self-reference", E, "A row points at itself (a link, relationship or parent)."
)
RECORD_CONTROL_CHARACTER = register(
    "record.control-character",
    E,
    "Text holds a control character (newlines only in notes and summaries).",
)
RECORD_BIDI = register("record.bidi-control", E, "Text holds a bidirectional-override character.")
RECORD_FORMULA = register(
    "record.formula",
    E,
    "Text a spreadsheet would run as a formula: it begins with = + - @ (or a full-width form), "
    "also after spaces or quotes, or with a TAB or CR; a plain number is not one.",
)
RECORD_NOT_NFC = register("record.not-nfc", E, "Text is not in Unicode normalisation form NFC.")
RECORD_WHITESPACE = register("record.whitespace", W, "Text begins or ends with white space.")
RECORD_INVISIBLE = register(
    "record.invisible-character",
    W,
    "Text holds a character that shows nothing (zero-width space or joiner, word joiner, BOM, "
    "soft hyphen).",
)
RECORD_MIXED_SCRIPT = register(
    "record.mixed-script",
    W,
    "A name has a word mixing Latin, Cyrillic or Greek letters (a look-alike: Cyrillic 'о' for 'o').",
)

# References
REF_UNKNOWN = {
    table: register(
        f"ref.unknown-{label}",
        E,
        f"A reference to {article} {label.replace('-', ' ')} that does not exist.",
    )
    for table, label, article in [
        ("sources", "source", "a"),
        ("people", "person", "a"),
        ("person_names", "person-name", "a"),
        ("organizations", "organization", "an"),
        ("postings", "posting", "a"),
        ("events", "event", "an"),
        ("event_participants", "participant", "a"),
        ("event_links", "event-link", "an"),
        ("motives", "motive", "a"),
        ("relationships", "relationship", "a"),
        ("statistics", "statistic", "a"),
        ("identifiers", "identifier", "an"),
        # No column refers to a claim (record_id may name any row but a claim): no code for it.
    ]
}
#: A table added to the descriptor has no code of its own until one is registered above: a
#: dangling reference into it is reported under this one, naming the table.
REF_UNKNOWN_ROW = register(
    "ref.unknown-row", E, "A reference to a row of another table that does not exist."
)


def ref_unknown(table: str) -> tuple[str, str]:
    """The code of a dangling reference into *table*, and the words that name what is missing.

    Examples
    --------
    >>> ref_unknown("people"), ref_unknown("toys")
    (('ref.unknown-person', 'person'), ('ref.unknown-row', 'row of toys'))
    """
    code = REF_UNKNOWN.get(table)
    if code is None:
        return REF_UNKNOWN_ROW, f"row of {table}"
    return code, code.split("-", 1)[1].replace("-", " ")


REF_ID_EXISTS = register(
    "ref.id-exists",
    E,
    "A contributed id is already in the package: ids are minted once; "
    "to change that record, amend it (set, merge, retire).",
)
REF_ID_RETIRED = register(
    "ref.id-retired",
    E,
    "A row's id was merged or retired (it is in redirects): ids are never reused.",
)
REF_REDIRECTED = register(
    "ref.redirected",
    W,
    "A contribution cites an id merged into another record: the reference is taken to the "
    "record that stands for it now.",
)
REF_RETIRED = register(
    "ref.retired", E, "A reference names a retired record (in redirects with no successor)."
)

# Amendments
AMEND_UNKNOWN_RECORD = register(
    "amend.unknown-record", E, "An amendment names a record the package does not have."
)
AMEND_RETIRED_RECORD = register(
    "amend.retired-record", E, "An amendment names, or merges into, a retired record."
)
AMEND_UNKNOWN_FIELD = register(
    "amend.unknown-field", E, "A set amendment names a field its record's table does not have."
)
AMEND_FIXED_FIELD = register(
    "amend.fixed-field", E, "A set amendment would change an id: merge or retire instead."
)
AMEND_OP_FIELDS = register(
    "amend.op-fields",
    E,
    "An amendment lacks a field its op needs, or has one that belongs to another op.",
)
AMEND_WRONG_TABLE = register(
    "amend.wrong-table", E, "A rerank names a row that is not a claim, or a merge names a claim."
)
AMEND_MERGE_MISMATCH = register(
    "amend.merge-mismatch", E, "A merge joins records of two tables, or a record with itself."
)
AMEND_RETIRE_ORPHANS = register(
    "amend.retire-orphans",
    E,
    "A retired record still has rows that refer to it: retire them too, or point them elsewhere.",
)

# Claims (provenance)
CLAIM_MISSING_ROW = register("claim.missing-row-claim", E, "A row has no claim with field '*'.")
CLAIM_MISSING_FIELD = register(
    "claim.missing-field-claim",
    E,
    "A date, title, rank, status, end_reason, role, motive, identifier value or number has no claim of its own.",
)
CLAIM_MISSING_TEXT = register(
    "claim.missing-original-text", E, "A claim on a date or a number lacks original_text."
)
CLAIM_PARAGRAPH = register(
    "claim.paragraph-out-of-range", E, "A claim cites a paragraph past the end of its source."
)
CLAIM_UNKNOWN_FIELD = register(
    "claim.unknown-field", E, "A claim names a field its record's table does not have."
)
CLAIM_EMPTY_FIELD = register(
    "claim.empty-field",
    E,
    "A claim that is not deprecated names a field that is empty in its record.",
)
CLAIM_MISSING_VALUE = register(
    "claim.missing-value", E, "A claim on a field (not '*') has no value."
)
CLAIM_ROW_VALUE = register(
    "claim.row-value", E, "A claim with field '*' (about the row as a whole) has a value."
)
CLAIM_INVALID_VALUE = register(
    "claim.invalid-value",
    E,
    "A claim's value is not a valid cell of its field (an EDTF date of the supported forms, a "
    "vocabulary code, a number, a country code, an id...).",
)
CLAIM_UNSUPPORTED = register(
    "claim.unsupported-value",
    E,
    "A filled cell that has claims is supported by none that is not deprecated (an equal value; "
    "for a date, a value whose range holds the cell's).",
)
CLAIM_PREFERRED_CONFLICT = register(
    "claim.preferred-conflict",
    E,
    "Two preferred claims give different values for one field of a record.",
)
CLAIM_PREFERRED_MISMATCH = register(
    "claim.preferred-mismatch",
    E,
    "A record's cell is not exactly the value of its preferred claim.",
)
CLAIM_DISPUTED = register(
    "claim.disputed",
    W,
    "Claims that are not deprecated disagree on one field of a record (different values; dates "
    "whose ranges do not meet) and none is preferred.",
)
CLAIM_MISSING_RANK_REASON = register(
    "claim.missing-rank-reason", E, "A preferred or deprecated claim has no rank_reason."
)
CLAIM_RANK_REASON = register(
    "claim.rank-reason-mismatch",
    E,
    "A normal claim has a rank_reason, or the reason is one for the other rank.",
)

# Identity and names
IDENTITY_NO_PREFERRED_NAME = register(
    "identity.no-preferred-name",
    E,
    "A named or pseudonymous person has no current preferred name (name_type preferred, no end_date).",
)
IDENTITY_SEVERAL_PREFERRED_NAMES = register(
    "identity.several-preferred-names",
    E,
    "A person has more than one current preferred name: one is shown, the others are alias or former.",
)
IDENTITY_NAME_MISMATCH = register(
    "identity.name-mismatch",
    E,
    "people.name is not the person's current preferred name, character for character.",
)
IDENTITY_UNNAMED_WITH_NAME = register(
    "identity.unnamed-with-preferred-name",
    E,
    "An unnamed or withheld person has a current preferred name (name them: identity_status named).",
)
NAME_LANG = register(
    "name.lang",
    E,
    "A name's lang is not a BCP 47 tag as BCP 47 writes it, or names no script (ko-Hang, ko-Latn, en).",
)
NAME_SCRIPT = register(
    "name.script-mismatch",
    E,
    "A name holds letters of another script than its lang names (Latin letters in a ko-Hang name).",
)
NAME_ROMANIZATION = register(
    "name.romanization",
    E,
    "A Korean name in Latin letters (ko-Latn) lacks its romanization, or another name has one.",
)

# Possible duplicates (warnings: a reason to look, never a verdict)
DUPLICATE_PERSON = register(
    "duplicate.person",
    W,
    "A person has a name that is a spelling of another person's name (same name key): the same person?",
)
DUPLICATE_POSTING = register(
    "duplicate.posting",
    W,
    "Two postings of one person at one organization whose dates may overlap, with ranks that do not tell them apart.",
)
DUPLICATE_ORGANIZATION = register(
    "duplicate.organization",
    W,
    "Two organizations of one country whose names are spellings of one name (same name key).",
)

# Source texts (the evidence check)
SOURCE_TEXT_SKIPPED = register(
    "source.text-skipped",
    N,
    "No text of a source was given: sha256, paragraphs and original_text were not checked.",
)
SOURCE_SHA256 = register(
    "source.sha256-mismatch", E, "A given text's sha256 differs from the source record's."
)
SOURCE_PARAGRAPHS = register(
    "source.paragraph-count", E, "A given text's paragraph count differs from the source record's."
)
SOURCE_TEXT_NOT_FOUND = register(
    "source.original-text-not-found",
    E,
    "A claim's original_text does not occur in the paragraph it cites.",
)
SOURCE_UNKNOWN = register(
    "source.unknown-text-source", E, "--source-text names a source id the package does not have."
)

# The package descriptor
PACKAGE_DESCRIPTOR = register(
    "package.descriptor",
    E,
    "The descriptor is unreadable, unsafe (remote, absolute, '..', symlinked paths) or lacks a resource.",
)
PACKAGE_PROFILE = register(
    "package.profile", E, "The descriptor breaks the Data Package 2.0 profile."
)
PACKAGE_INTERRUPTED_MERGE = register(
    "package.interrupted-merge",
    E,
    "An interrupted `add` left its journal: the package is between two states until `add` or `fmt` finishes it.",
)
PACKAGE_FRICTIONLESS = register(
    "package.frictionless", E, "frictionless reports an error our own checks did not."
)

# A release against its own descriptor
RELEASE_HASH_MISMATCH = register(
    "release.hash-mismatch",
    E,
    "A file of a release differs from the bytes or sha256 its descriptor records: it changed after the build.",
)
