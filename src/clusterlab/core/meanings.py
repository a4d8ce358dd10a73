"""Detect a column's meaning from a sample of its values, as DSS does at import.

A meaning (IP address, country, URL, ...) says what the values *are*, beyond how they
are stored. `detect_meaning` picks one for a column from about a thousand sampled
values; `is_valid_for_meaning` checks one value against a meaning (used by the
"clear cells invalid for a meaning" processor and by validity statistics). Both share
the matchers below, so a column detected as ``ip_address`` is exactly the set of
values the processor keeps.

Pure functions: no I/O, standard library only.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import date

from clusterlab.core.schema import Meaning, StorageType

__all__ = ["MEANING_THRESHOLD", "detect_meaning", "is_valid_for_meaning"]

MEANING_THRESHOLD = 0.9
"""Share of non-empty sampled values that must match a meaning for it to win."""

Matcher = Callable[[str], bool]

# --- numbers and booleans ------------------------------------------------------------

_INTEGER_RE = re.compile(r"[+-]?\d+")
# A decimal comma is accepted because semicolon-separated European files write
# numbers that way; "1,234" is then read as 1.234, never as a thousands separator.
_DECIMAL_RE = re.compile(r"[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][+-]?\d+)?")
_TRUE_FALSE_WORDS = frozenset({"true", "false", "yes", "no", "t", "f", "y", "n"})
_TRUE_FALSE_DIGITS = frozenset({"0", "1"})


def _is_integer(value: str) -> bool:
    return _INTEGER_RE.fullmatch(value) is not None


def _is_decimal(value: str) -> bool:
    return _DECIMAL_RE.fullmatch(value) is not None


def _is_boolean_word(value: str) -> bool:
    return value.lower() in _TRUE_FALSE_WORDS


def _is_boolean(value: str) -> bool:
    return value in _TRUE_FALSE_DIGITS or _is_boolean_word(value)


# --- dates ---------------------------------------------------------------------------

_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ),
        start=1,
    )
    for name in names
}
_MON = "(?P<mon>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_WEEKDAY = r"(?:(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,?\s+)?"
_ORD = r"(?:st|nd|rd|th)?"
_TIME = (
    r"(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:[.,]\d{1,9})?)?"
    r"(?:\s?[ap]\.?m\.?)?(?:\s?(?:z|utc|gmt|[+-]\d{2}(?::?\d{2})?))?"
)
_OPT_TIME = rf"(?:(?:t|\s+|:){_TIME})?"
_DATE_RES = tuple(
    re.compile(pattern, re.IGNORECASE)
    for pattern in (
        # 2024-01-31, 2024/01/31, 2024.01.31, with an optional time (ISO 8601 and kin)
        rf"(?P<y>\d{{4}})(?P<sep>[-/.])(?P<m>\d{{1,2}})(?P=sep)(?P<d>\d{{1,2}}){_OPT_TIME}",
        # 31/01/2024, 01/31/2024, 31-01-24; dots need a 4-digit year (1.2.24 is a version)
        rf"(?P<a>\d{{1,2}})(?P<sep>[-/])(?P<b>\d{{1,2}})(?P=sep)(?P<y>\d{{4}}|\d{{2}}){_OPT_TIME}",
        rf"(?P<a>\d{{1,2}})\.(?P<b>\d{{1,2}})\.(?P<y>\d{{4}}){_OPT_TIME}",
        # Jan 31 2024, January 31, 2024, Wed Jan 31 2024
        rf"{_WEEKDAY}{_MON}[\s-]?(?P<d>\d{{1,2}}){_ORD},?[\s-](?P<y>\d{{4}}){_OPT_TIME}",
        # 31 Jan 2024, 31-Jan-24, Wed, 31 Jan 2024 10:00:00 +0000, 31/Jan/2024:10:00:00 +0000
        rf"{_WEEKDAY}(?P<d>\d{{1,2}}){_ORD}[\s/-]?{_MON}[\s/,-]+(?P<y>\d{{4}}|\d{{2}}){_OPT_TIME}",
        # Wed Jan 31 10:00:00 2024 (C's ctime, Unix `date`)
        rf"{_WEEKDAY}{_MON}\s+(?P<d>\d{{1,2}})\s+{_TIME}\s+(?P<y>\d{{4}})",
    )
)


def _valid_ymd(year: int, month: int, day: int) -> bool:
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True


def _is_date(value: str) -> bool:
    # Every accepted form is 6 to 64 characters long and holds a year: most text values
    # are rejected here without running the regexes.
    if not 6 <= len(value) <= 64 or not any(ch.isdigit() for ch in value):
        return False
    for pattern in _DATE_RES:
        match = pattern.fullmatch(value)
        if match is None:
            continue
        groups = match.groupdict()
        if groups.get("H") is not None and (
            int(groups["H"]) > 24 or int(groups["M"]) > 59 or int(groups["S"] or 0) > 60
        ):
            return False
        year = int(groups["y"])
        if len(groups["y"]) == 2:
            year += 2000
        if groups.get("mon") is not None:
            month = _MONTHS[groups["mon"].lower()]
            return _valid_ymd(year, month, int(groups["d"]))
        if groups.get("m") is not None:
            return _valid_ymd(year, int(groups["m"]), int(groups["d"]))
        first, second = int(groups["a"]), int(groups["b"])
        # Day-first and month-first are both common; accept the value if either reads.
        return _valid_ymd(year, second, first) or _valid_ymd(year, first, second)
    return False


# --- network values ------------------------------------------------------------------

_IP_SHAPE_RE = re.compile(r"[\w:.%]+")


def _is_ip_address(value: str) -> bool:
    # The shape test skips the exception-raising parse for ordinary words.
    if len(value) > 64 or ("." not in value and ":" not in value):
        return False
    if _IP_SHAPE_RE.fullmatch(value) is None:
        return False
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


_EMAIL_RE = re.compile(
    r"[\w!#$%&'*+/=?^`{|}~-]+(?:\.[\w!#$%&'*+/=?^`{|}~-]+)*"
    r"@(?:[^\W_](?:[\w-]{0,61}[^\W_])?\.)+[^\W\d_]{2,63}"
)
_URL_RE = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]{0,31}://[^\s/?#@]+(?:@[^\s/?#]+)?(?:[/?#]\S*)?")


def _is_email(value: str) -> bool:
    return "@" in value and _EMAIL_RE.fullmatch(value) is not None


def _is_url(value: str) -> bool:
    return "://" in value and _URL_RE.fullmatch(value) is not None


# A user agent is a product token (name/version) followed by more tokens or comments.
# Browsers all start with Mozilla/ (or old Opera/); other clients are recognised by a
# product token plus either a "(...)" comment or a well-known client or bot name, so
# that ordinary "A/1" text does not pass.
_BROWSER_UA_RE = re.compile(r"(?:Mozilla|Opera)/\d+(?:\.\d+)*(?:\s.*)?", re.DOTALL)
_PRODUCT_UA_RE = re.compile(r"[A-Za-z][\w.!+-]*/v?\d[\w.+-]*(?:[\s;].*)?", re.DOTALL)
_CLIENT_NAME_RE = re.compile(
    r"bot\b|bot[-/]|crawl|spider|slurp|curl|wget|python|java|go-http|okhttp|libwww|"
    r"httpclient|dalvik|postman|axios|node|ruby|php|perl|scrapy|headless|lighthouse|"
    r"facebookexternalhit|feedfetcher|httpie|powershell|winhttp|cfnetwork|darwin|"
    r"apache|electron|insomnia|aiohttp|httpx|urllib|guzzle|reqwest",
    re.IGNORECASE,
)


def _is_user_agent(value: str) -> bool:
    if len(value) < 6 or "/" not in value:
        return False
    if _BROWSER_UA_RE.fullmatch(value) is not None:
        return True
    if _PRODUCT_UA_RE.fullmatch(value) is None:
        return False
    return ("(" in value and ")" in value) or _CLIENT_NAME_RE.search(value) is not None


# --- countries -----------------------------------------------------------------------

# Entries are separated by "|" or a line break: ISO 3166-1 alpha-2, alpha-3 and short
# name, then common aliases after ";" (former, formal and native names); a country may
# take a second entry for more aliases. XK/XKX (Kosovo) is user-assigned but common.
_COUNTRY_TABLE = """
AD AND Andorra | AE ARE United Arab Emirates;UAE;Emirates | AF AFG Afghanistan
AG ATG Antigua and Barbuda | AI AIA Anguilla | AL ALB Albania | AM ARM Armenia | AO AGO Angola
AQ ATA Antarctica | AR ARG Argentina | AS ASM American Samoa | AT AUT Austria;Österreich
AU AUS Australia | AW ABW Aruba | AX ALA Åland Islands | AZ AZE Azerbaijan
BA BIH Bosnia and Herzegovina;Bosnia | BB BRB Barbados | BD BGD Bangladesh
BE BEL Belgium;Belgique;België | BF BFA Burkina Faso | BG BGR Bulgaria | BH BHR Bahrain
BI BDI Burundi | BJ BEN Benin | BL BLM Saint Barthélemy | BM BMU Bermuda
BN BRN Brunei Darussalam;Brunei | BO BOL Bolivia;Bolivia, Plurinational State of
BQ BES Bonaire, Sint Eustatius and Saba;Caribbean Netherlands | BR BRA Brazil;Brasil
BS BHS Bahamas | BT BTN Bhutan | BV BVT Bouvet Island | BW BWA Botswana | BY BLR Belarus
BZ BLZ Belize | CA CAN Canada | CC CCK Cocos (Keeling) Islands;Cocos Islands
CD COD Congo, Democratic Republic of the;Democratic Republic of the Congo;DR Congo;DRC
CF CAF Central African Republic | CG COG Congo;Republic of the Congo;Congo-Brazzaville
CH CHE Switzerland;Schweiz;Suisse;Svizzera | CI CIV Côte d'Ivoire;Ivory Coast
CK COK Cook Islands | CL CHL Chile | CM CMR Cameroon | CN CHN China;People's Republic of China
CO COL Colombia | CR CRI Costa Rica | CU CUB Cuba | CV CPV Cabo Verde;Cape Verde | CW CUW Curaçao
CX CXR Christmas Island | CY CYP Cyprus | CZ CZE Czechia;Czech Republic
DE DEU Germany;Deutschland | DJ DJI Djibouti | DK DNK Denmark;Danmark | DM DMA Dominica
DO DOM Dominican Republic | DZ DZA Algeria | EC ECU Ecuador | EE EST Estonia | EG EGY Egypt
EH ESH Western Sahara | ER ERI Eritrea | ES ESP Spain;España | ET ETH Ethiopia
FI FIN Finland;Suomi | FJ FJI Fiji | FK FLK Falkland Islands (Malvinas);Falkland Islands
FM FSM Micronesia, Federated States of;Micronesia | FO FRO Faroe Islands | FR FRA France
GA GAB Gabon
GB GBR United Kingdom;United Kingdom of Great Britain and Northern Ireland;UK;Great Britain
GB GBR Britain;England;Scotland;Wales;Northern Ireland
GD GRD Grenada | GE GEO Georgia | GF GUF French Guiana | GG GGY Guernsey | GH GHA Ghana
GI GIB Gibraltar | GL GRL Greenland | GM GMB Gambia | GN GIN Guinea | GP GLP Guadeloupe
GQ GNQ Equatorial Guinea | GR GRC Greece;Hellas
GS SGS South Georgia and the South Sandwich Islands | GT GTM Guatemala | GU GUM Guam
GW GNB Guinea-Bissau | GY GUY Guyana | HK HKG Hong Kong | HM HMD Heard Island and McDonald Islands
HN HND Honduras | HR HRV Croatia;Hrvatska | HT HTI Haiti | HU HUN Hungary;Magyarország
ID IDN Indonesia | IE IRL Ireland | IL ISR Israel | IM IMN Isle of Man | IN IND India
IO IOT British Indian Ocean Territory | IQ IRQ Iraq | IR IRN Iran;Iran, Islamic Republic of
IS ISL Iceland | IT ITA Italy;Italia | JE JEY Jersey | JM JAM Jamaica | JO JOR Jordan
JP JPN Japan | KE KEN Kenya | KG KGZ Kyrgyzstan | KH KHM Cambodia | KI KIR Kiribati
KM COM Comoros | KN KNA Saint Kitts and Nevis
KP PRK North Korea;Korea, Democratic People's Republic of
KR KOR South Korea;Korea, Republic of;Korea | KW KWT Kuwait | KY CYM Cayman Islands
KZ KAZ Kazakhstan | LA LAO Laos;Lao People's Democratic Republic | LB LBN Lebanon
LC LCA Saint Lucia | LI LIE Liechtenstein | LK LKA Sri Lanka | LR LBR Liberia | LS LSO Lesotho
LT LTU Lithuania | LU LUX Luxembourg | LV LVA Latvia | LY LBY Libya | MA MAR Morocco
MC MCO Monaco | MD MDA Moldova;Moldova, Republic of | ME MNE Montenegro
MF MAF Saint Martin (French part);Saint Martin | MG MDG Madagascar | MH MHL Marshall Islands
MK MKD North Macedonia;Macedonia | ML MLI Mali | MM MMR Myanmar;Burma | MN MNG Mongolia
MO MAC Macao;Macau | MP MNP Northern Mariana Islands | MQ MTQ Martinique | MR MRT Mauritania
MS MSR Montserrat | MT MLT Malta | MU MUS Mauritius | MV MDV Maldives | MW MWI Malawi
MX MEX Mexico | MY MYS Malaysia | MZ MOZ Mozambique | NA NAM Namibia | NC NCL New Caledonia
NE NER Niger | NF NFK Norfolk Island | NG NGA Nigeria | NI NIC Nicaragua
NL NLD Netherlands;Holland;Nederland;Netherlands (Kingdom of the) | NO NOR Norway;Norge
NP NPL Nepal | NR NRU Nauru | NU NIU Niue | NZ NZL New Zealand | OM OMN Oman | PA PAN Panama
PE PER Peru | PF PYF French Polynesia | PG PNG Papua New Guinea | PH PHL Philippines
PK PAK Pakistan | PL POL Poland;Polska | PM SPM Saint Pierre and Miquelon | PN PCN Pitcairn
PR PRI Puerto Rico | PS PSE Palestine;Palestine, State of | PT PRT Portugal | PW PLW Palau
PY PRY Paraguay | QA QAT Qatar | RE REU Réunion | RO ROU Romania | RS SRB Serbia
RU RUS Russia;Russian Federation | RW RWA Rwanda | SA SAU Saudi Arabia | SB SLB Solomon Islands
SC SYC Seychelles | SD SDN Sudan | SE SWE Sweden;Sverige | SG SGP Singapore
SH SHN Saint Helena;Saint Helena, Ascension and Tristan da Cunha | SI SVN Slovenia
SJ SJM Svalbard and Jan Mayen | SK SVK Slovakia | SL SLE Sierra Leone | SM SMR San Marino
SN SEN Senegal | SO SOM Somalia | SR SUR Suriname | SS SSD South Sudan
ST STP Sao Tome and Principe | SV SLV El Salvador | SX SXM Sint Maarten (Dutch part);Sint Maarten
SY SYR Syria;Syrian Arab Republic | SZ SWZ Eswatini;Swaziland | TC TCA Turks and Caicos Islands
TD TCD Chad | TF ATF French Southern Territories | TG TGO Togo | TH THA Thailand
TJ TJK Tajikistan | TK TKL Tokelau | TL TLS Timor-Leste;East Timor | TM TKM Turkmenistan
TN TUN Tunisia | TO TON Tonga | TR TUR Türkiye;Turkey | TT TTO Trinidad and Tobago | TV TUV Tuvalu
TW TWN Taiwan;Taiwan, Province of China | TZ TZA Tanzania;Tanzania, United Republic of
UA UKR Ukraine | UG UGA Uganda | UM UMI United States Minor Outlying Islands
US USA United States;United States of America;USA;U.S.;U.S.A.;America | UY URY Uruguay
UZ UZB Uzbekistan | VA VAT Holy See;Vatican;Vatican City | VC VCT Saint Vincent and the Grenadines
VE VEN Venezuela;Venezuela, Bolivarian Republic of
VG VGB British Virgin Islands;Virgin Islands (British)
VI VIR US Virgin Islands;Virgin Islands (U.S.) | VN VNM Viet Nam;Vietnam | VU VUT Vanuatu
WF WLF Wallis and Futuna | WS WSM Samoa | XK XKX Kosovo | YE YEM Yemen | YT MYT Mayotte
ZA ZAF South Africa | ZM ZMB Zambia | ZW ZWE Zimbabwe
"""

_NON_ALNUM_RE = re.compile(r"[^0-9a-z]+")


def _normalize_country_name(value: str) -> str:
    # Accents, case, punctuation, "&", "St." and a leading "The" vary between sources
    # ("Côte d’Ivoire", "cote d'ivoire", "The Gambia", "St. Lucia").
    text = unicodedata.normalize("NFKD", value.casefold())
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).replace("&", " and ")
    words = _NON_ALNUM_RE.sub(" ", text).split()
    if words and words[0] == "the":
        words = words[1:]
    return " ".join("saint" if word == "st" else word for word in words)


def _load_countries() -> tuple[frozenset[str], frozenset[str]]:
    codes: set[str] = {"UK"}  # reserved for the United Kingdom and common in data
    names: set[str] = set()
    for entry in re.split(r"[|\n]", _COUNTRY_TABLE.strip()):
        alpha2, alpha3, rest = entry.strip().split(" ", 2)
        codes.update((alpha2, alpha3))
        names.update(_normalize_country_name(name) for name in rest.split(";"))
    return frozenset(codes), frozenset(names)


_COUNTRY_CODES, _COUNTRY_NAMES = _load_countries()


def _is_country(value: str) -> bool:
    # Codes count only in upper case: lower-case "no", "in", "and", "can" are words.
    if len(value) <= 3 and value.isupper():
        return value in _COUNTRY_CODES
    if len(value) > 60 or any(ch.isdigit() for ch in value):
        return False
    return _normalize_country_name(value) in _COUNTRY_NAMES


# --- detection -----------------------------------------------------------------------

_MATCHERS: dict[Meaning, Matcher] = {
    Meaning.BOOLEAN: _is_boolean,
    Meaning.INTEGER: _is_integer,
    Meaning.DECIMAL: _is_decimal,
    Meaning.DATE: _is_date,
    Meaning.IP_ADDRESS: _is_ip_address,
    Meaning.EMAIL: _is_email,
    Meaning.URL: _is_url,
    Meaning.USER_AGENT: _is_user_agent,
    Meaning.COUNTRY: _is_country,
}

# Tried in this order on text columns; the first meaning reaching the threshold wins.
# Narrow meanings come first: every integer is also a decimal.
_TEXT_DETECTION_ORDER: tuple[tuple[Meaning, Matcher], ...] = (
    (Meaning.BOOLEAN, _is_boolean),
    (Meaning.INTEGER, _is_integer),
    (Meaning.DECIMAL, _is_decimal),
    (Meaning.DATE, _is_date),
    (Meaning.IP_ADDRESS, _is_ip_address),
    (Meaning.EMAIL, _is_email),
    (Meaning.URL, _is_url),
    (Meaning.USER_AGENT, _is_user_agent),
    (Meaning.COUNTRY, _is_country),
)

_STORAGE_MEANINGS = {
    StorageType.INTEGER: Meaning.INTEGER,
    StorageType.DECIMAL: Meaning.DECIMAL,
    StorageType.BOOLEAN: Meaning.BOOLEAN,
    StorageType.DATE: Meaning.DATE,
    StorageType.TIMESTAMP: Meaning.DATE,
}


def _reaches_threshold(counts: Counter[str], total: int, matcher: Matcher) -> bool:
    # Give up as soon as the misses alone rule the meaning out: most candidate
    # meanings fail on the first few distinct values.
    allowed_misses = total - MEANING_THRESHOLD * total
    misses = 0
    for value, count in counts.items():
        if not matcher(value):
            misses += count
            if misses > allowed_misses:
                return False
    return True


def detect_meaning(values: Sequence[str | None], storage_type: StorageType) -> Meaning:
    """Return the meaning of a column from a sample of its values.

    A non-string storage type decides alone (integer columns are never countries,
    dates or booleans). For string columns each candidate meaning is tried in a fixed
    order (boolean words, integer, decimal, date, IP address, email, URL, user agent,
    country) and the first one matched by at least `MEANING_THRESHOLD` of the
    non-empty values wins; otherwise the meaning is text.

    Parameters
    ----------
    values
        Sampled values as strings; ``None`` and blank strings are ignored.
    storage_type
        How the column is stored.

    Returns
    -------
    Meaning
        The detected meaning; `Meaning.TEXT` for a string column with no values.

    Examples
    --------
    >>> from clusterlab.core.schema import StorageType
    >>> detect_meaning(["10.0.0.1", "192.168.1.20", None, ""], StorageType.STRING).value
    'ip_address'
    >>> detect_meaning(["FR", "US", "Germany"], StorageType.STRING).value
    'country'
    >>> detect_meaning(["7", "8"], StorageType.INTEGER).value
    'integer'
    """
    storage_meaning = _STORAGE_MEANINGS.get(storage_type)
    if storage_meaning is not None:
        return storage_meaning
    counts = Counter(stripped for v in values if v is not None and (stripped := v.strip()))
    total = sum(counts.values())
    if total == 0:
        return Meaning.TEXT
    for meaning, matcher in _TEXT_DETECTION_ORDER:
        # Text holding only 0 and 1 is a number column; it is boolean when true/false
        # words appear too (a storage-typed boolean column never gets here).
        if meaning is Meaning.BOOLEAN and not any(map(_is_boolean_word, counts)):
            continue
        if _reaches_threshold(counts, total, matcher):
            return meaning
    return Meaning.TEXT


def is_valid_for_meaning(value: str, meaning: Meaning) -> bool:
    """Return whether one value is valid for a meaning.

    Surrounding whitespace is ignored. Every value is valid text; a blank value is
    valid for no other meaning (callers count empty cells separately). Booleans accept
    true/false, yes/no, t/f, y/n (any case) and 0/1.

    Parameters
    ----------
    value
        The cell value as a string.
    meaning
        The meaning to check against.

    Returns
    -------
    bool
        ``True`` when the value reads as the meaning.

    Examples
    --------
    >>> from clusterlab.core.schema import Meaning
    >>> is_valid_for_meaning("2001:db8::1", Meaning.IP_ADDRESS)
    True
    >>> is_valid_for_meaning("999.1.1.1", Meaning.IP_ADDRESS)
    False
    >>> is_valid_for_meaning("31/01/2024", Meaning.DATE)
    True
    """
    if meaning is Meaning.TEXT:
        return True
    stripped = value.strip()
    return bool(stripped) and _MATCHERS[meaning](stripped)
