"""Facts the web-logs generator draws from: countries and their IP blocks, user agents,
screens, site pages and referrers.

The IP blocks were read from the bundled DB-IP City Lite database (2023-04): each is
one network of the database's search tree, so every address in it resolves to the
same country and city. Blocks of the large cloud providers were left out, since
visitors rarely browse from a data centre. ``tests/unit/samples`` checks them again.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["COUNTRIES", "CRAWLER_UAS", "DESKTOP_UAS", "MOBILE_UAS", "PAGES", "REFERERS"]


@dataclass(frozen=True)
class Country:
    """A visitor origin: GeoIP name, IPv4 blocks, clock and browser languages.

    ``tz`` holds JavaScript ``getTimezoneOffset()`` values (minutes) outside daylight
    saving time and ``langs`` browser languages; repeated entries are more likely.
    """

    name: str
    blocks: str
    tz: tuple[int, ...]
    dst: str | None  # "eu", "us" or "au" (southern hemisphere) daylight saving rule
    langs: str


# fmt: off
COUNTRIES: tuple[Country, ...] = (
    Country("France", "37.64.0.0/16 77.142.0.0/16 82.126.160.0/19 86.251.0.0/17 90.45.64.0/18 "
            "90.99.0.0/16 98.65.0.0/16 130.66.0.0/16 130.79.0.0/17 130.120.0.0/16 130.190.0.0/16 "
            "132.149.0.0/16 134.59.0.0/16 139.124.0.0/16 140.77.0.0/16 162.38.0.0/16",
            (-60,), "eu", "fr-FR fr-FR fr-FR fr-FR fr en-US"),
    Country("United States", "12.100.0.0/16 32.234.0.0/16 38.61.0.0/16 43.219.0.0/16 "
            "50.85.0.0/16 51.88.0.0/16 63.129.0.0/16 66.40.0.0/16 68.241.0.0/16 107.28.0.0/16 "
            "107.41.0.0/16 107.233.0.0/16 128.83.0.0/16 129.197.0.0/16 137.228.0.0/16 "
            "143.253.0.0/16", (300, 300, 300, 360, 360, 420, 480, 480), "us",
            "en-US en-US en-US en-US es-US"),
    Country("United Kingdom", "2.254.0.0/16 8.208.0.0/16 51.33.0.0/16 51.61.0.0/16 "
            "62.137.0.0/16 90.253.128.0/18 129.11.0.0/16 129.215.128.0/17 130.159.0.0/18 "
            "130.209.128.0/17 137.222.128.0/17 138.253.0.0/16 146.176.0.0/16 147.188.0.0/17 "
            "147.188.128.0/18 150.204.128.0/17", (0,), "eu", "en-GB en-GB en-GB en-US"),
    Country("Germany", "2.165.0.0/16 2.241.0.0/16 2.242.0.0/16 2.245.0.0/16 31.242.0.0/16 "
            "77.14.0.0/16 77.177.0.0/16 87.139.16.0/20 93.128.0.0/16 139.15.0.0/16 141.77.0.0/17 "
            "149.226.0.0/17 160.47.0.0/16 160.49.0.0/16 176.5.0.0/16 194.31.112.0/20",
            (-60,), "eu", "de-DE de-DE de-DE de en-US"),
    Country("Spain", "37.218.0.0/17 80.33.0.0/16 85.86.64.0/19 85.86.128.0/19 87.111.0.0/16 "
            "138.100.0.0/16 144.20.0.0/16 146.219.0.0/17 150.214.176.0/20 150.214.192.0/20 "
            "158.42.0.0/18 158.42.64.0/19 158.42.192.0/18 160.214.0.0/16 161.116.0.0/16 "
            "193.147.160.0/20", (-60,), "eu", "es-ES es-ES es-ES ca-ES en-US"),
    Country("Italy", "2.194.0.0/16 5.87.0.0/16 79.48.0.0/17 81.57.0.0/16 81.127.0.0/16 "
            "83.156.0.0/16 87.22.0.0/16 87.30.0.0/16 130.136.0.0/16 137.204.0.0/17 "
            "143.225.96.0/19 143.225.128.0/19 143.225.192.0/18 146.100.0.0/16 151.87.0.0/16 "
            "151.88.0.0/16", (-60,), "eu", "it-IT it-IT it-IT en-US"),
    Country("Netherlands", "51.124.0.0/16 51.136.0.0/16 51.144.0.0/16 62.45.160.0/19 "
            "80.112.16.0/21 80.126.0.0/16 81.172.224.0/19 134.203.0.0/16 134.221.0.0/16 "
            "134.222.0.0/16 145.6.0.0/16 145.33.0.0/16 145.35.0.0/16 145.85.0.0/16 "
            "146.104.0.0/16 161.88.224.0/20", (-60,), "eu", "nl-NL nl-NL nl en-US en-GB"),
    Country("Belgium", "80.201.64.0/20 81.242.64.0/20 81.246.144.0/20 86.39.32.0/19 "
            "86.39.224.0/20 109.143.224.0/19 138.203.0.0/16 139.10.0.0/16 139.165.0.0/16 "
            "141.138.64.0/20 143.129.0.0/16 143.169.0.0/16 157.193.0.0/16 164.15.0.0/16 "
            "164.35.0.0/16 170.255.0.0/16", (-60,), "eu", "fr-BE nl-BE nl-BE fr-FR en-US"),
    Country("Switzerland", "86.118.0.0/16 128.178.128.0/17 128.179.0.0/17 130.59.0.0/16 "
            "130.60.0.0/16 137.34.0.0/16 138.187.0.0/16 138.228.0.0/16 145.245.0.0/16 "
            "147.87.0.0/16 147.167.0.0/16 155.105.0.0/16 156.135.0.0/16 158.232.0.0/16 "
            "160.61.0.0/16 188.184.0.0/16", (-60,), "eu", "de-CH de-CH fr-CH en-US it-CH"),
    Country("Canada", "24.87.0.0/19 38.172.0.0/16 38.230.0.0/16 38.237.0.0/16 68.144.128.0/19 "
            "68.151.160.0/19 96.50.0.0/19 97.110.0.0/16 104.159.64.0/18 137.82.0.0/16 "
            "140.80.128.0/18 156.44.192.0/18 167.38.0.0/16 167.44.0.0/16 167.50.0.0/16 "
            "167.52.0.0/16", (300, 300, 420, 480), "us", "en-CA en-CA en-US fr-CA"),
    Country("India", "49.137.128.0/17 49.139.128.0/17 49.203.64.0/18 59.181.0.0/16 "
            "59.184.0.0/16 64.103.128.0/17 74.224.0.0/16 74.225.0.0/18 74.225.128.0/17 "
            "98.70.0.0/17 101.213.0.0/17 101.214.0.0/17 101.223.128.0/17 115.255.0.0/17 "
            "120.61.0.0/16 162.56.0.0/16", (-330,), None, "en-IN en-IN en-US en-GB hi-IN"),
    Country("Brazil", "108.140.128.0/17 139.82.0.0/16 152.92.0.0/16 152.233.0.0/16 "
            "152.236.0.0/16 152.239.0.0/16 164.41.0.0/16 177.28.0.0/16 177.193.64.0/19 "
            "181.221.0.0/19 187.23.96.0/19 187.31.0.0/16 189.37.128.0/17 191.185.128.0/18 "
            "191.219.128.0/17 200.236.128.0/18", (180,), None, "pt-BR pt-BR pt-BR en-US"),
    Country("Japan", "1.5.0.0/16 8.221.128.0/17 31.133.128.0/18 36.244.0.0/16 36.245.0.0/16 "
            "49.99.0.0/16 49.102.0.0/16 60.123.0.0/16 114.21.0.0/16 118.23.0.0/16 "
            "130.129.0.0/16 133.5.64.0/18 133.111.0.0/16 133.141.0.0/16 148.109.0.0/16 "
            "160.23.0.0/16", (-540,), None, "ja ja-JP ja en-US"),
    Country("Australia", "1.124.128.0/17 1.131.0.0/16 1.133.0.0/16 1.137.0.0/16 1.142.0.0/16 "
            "129.127.0.0/17 134.18.0.0/16 134.178.0.0/16 136.236.0.0/16 138.79.0.0/16 "
            "138.213.0.0/16 138.252.0.0/16 144.6.128.0/17 146.195.0.0/16 158.89.0.0/16 "
            "161.152.0.0/16", (-600, -600, -570, -480), "au", "en-AU en-AU en-US en-GB"),
    # Search engine crawlers: Google's and Microsoft's published crawler ranges.
    Country("United States", "66.249.64.0/20 66.249.64.0/20 157.55.39.0/24 207.46.13.0/24",
            (0,), None, "en-US"),
)
CRAWLER_COUNTRY = len(COUNTRIES) - 1

# (weight, template, versions): {v} is the version, {w} the same with dots for underscores;
# the first version listed is the most common.
DESKTOP_UAS = (
    (38, "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
         "Chrome/{v}.0.0.0 Safari/537.36", "124 123 122 121 120"),
    (12, "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like "
         "Gecko) Chrome/{v}.0.0.0 Safari/537.36", "124 123 122"),
    (8, "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like "
        "Gecko) Version/{v} Safari/605.1.15", "17.4.1 17.3.1 16.6"),
    (12, "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
         "Chrome/{v}.0.0.0 Safari/537.36 Edg/{v}.0.2478.51", "124 123 122"),
    (7, "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:{v}.0) Gecko/20100101 Firefox/{v}.0",
        "125 124 115"),
    (2, "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:{v}.0) Gecko/20100101 Firefox/{v}.0",
        "125 124"),
    (2, "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:{v}.0) Gecko/20100101 Firefox/{v}.0",
        "125 124"),
    (3, "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/{v}.0.0.0 Safari/537.36", "124 123"),
    (1, "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/123.0.0.0 Safari/537.36 OPR/{v}.0.0.0", "109 108"),
)
MOBILE_UAS = (
    (40, "Mozilla/5.0 (iPhone; CPU iPhone OS {v} like Mac OS X) AppleWebKit/605.1.15 (KHTML, "
         "like Gecko) Version/{w} Mobile/15E148 Safari/604.1", "17_4_1 17_3_1 16_6_1"),
    (30, "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
         "Chrome/{v}.0.0.0 Mobile Safari/537.36", "124 123 122"),
    (8, "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) "
        "SamsungBrowser/{v} Chrome/117.0.0.0 Mobile Safari/537.36", "24.0 23.0"),
    (5, "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, "
        "like Gecko) CriOS/{v}.0.6367.71 Mobile/15E148 Safari/604.1", "124 123"),
    (6, "Mozilla/5.0 (iPad; CPU OS {v} like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/{w} Mobile/15E148 Safari/604.1", "17_4 17_3"),
    (4, "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/{v}.0.0.0 Mobile Safari/537.36", "124 123"),
    (2, "Mozilla/5.0 (Android 14; Mobile; rv:{v}.0) Gecko/{v}.0 Firefox/{v}.0", "125 124"),
    (2, "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/124.0.0.0 Mobile Safari/537.36 EdgA/{v}.0.0.0", "124"),
)
CRAWLER_UAS = (
    (6, "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", ""),
    (3, "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; Googlebot/2.1; "
        "+http://www.google.com/bot.html) Chrome/{v}.0.6367.155 Safari/537.36", "124"),
    (2, "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)", ""),
)
DESKTOP_SCREENS = ("1920x1080 1920x1080 1920x1080 1366x768 1536x864 1440x900 2560x1440 "
                   "1680x1050 1280x720 1280x800 3840x2160 2560x1600")
MOBILE_SCREENS = ("390x844 390x844 393x873 414x896 375x667 360x800 360x800 412x915 428x926 "
                  "430x932 768x1024 820x1180")

_TOPICS = (
    "customer-segmentation", "churn-prediction", "time-series-forecasting",
    "feature-engineering", "data-governance", "mlops", "anomaly-detection",
    "recommendation-engines", "text-analytics", "computer-vision", "data-pipelines",
    "ab-testing", "dashboards", "geospatial-analytics", "self-service-analytics",
)
_ANGLES = (
    "how-to-start-with", "why-we-love", "a-guide-to", "an-introduction-to", "lessons-from",
    "five-tips-for", "the-future-of", "a-practical-look-at",
)
_INDUSTRIES = (
    "marketing", "retail", "banking", "insurance", "healthcare", "manufacturing", "telecom",
    "energy", "public-sector", "supply-chain", "fraud-detection", "predictive-maintenance",
    "customer-360", "demand-forecasting", "churn-reduction",
)
# Pages per site section, in the order of SECTIONS in weblogs.py.
PAGES: tuple[tuple[str, ...], ...] = (
    ("/",),
    ("/blog/", *(f"/blog/{a}-{t}" for t in _TOPICS for a in _ANGLES)),
    ("/applications/", *(f"/applications/{i}" for i in _INDUSTRIES)),
    tuple(f"/company/{p}" for p in ("", "about", "team", "careers", "careers/data-scientist",
          "careers/software-engineer", "press", "contact", "events", "partners", "customers")),
    tuple(f"/products/{p}" for p in ("", "features", "pricing", "download", "free-trial",
          "enterprise", "integrations", "security", "release-notes", "demo", "compare",
          "cloud", "on-premise", "plugins")),
    ("/data-science/", *(f"/data-science/{t}/{k}" for t in _TOPICS[:10]
                         for k in ("tutorial", "course", "webinar", "whitepaper"))),
)
# (weight, referer, session_params, query added to the landing page URL)
REFERERS = (
    (30, "", "{}", ""),
    (30, "https://www.google.com/", '{"utm_source":"google","utm_medium":"organic"}', ""),
    (6, "https://www.bing.com/", '{"utm_source":"bing","utm_medium":"organic"}', ""),
    (2, "https://duckduckgo.com/", '{"utm_source":"duckduckgo","utm_medium":"organic"}', ""),
    (8, "https://www.linkedin.com/", '{"utm_source":"linkedin","utm_medium":"social"}',
        "?utm_source=linkedin&utm_medium=social"),
    (4, "https://t.co/", '{"utm_source":"twitter","utm_medium":"social"}',
        "?utm_source=twitter&utm_medium=social"),
    (5, "https://www.google.com/",
        '{"utm_source":"google","utm_medium":"cpc","utm_campaign":"segmentation"}',
        "?utm_source=google&utm_medium=cpc&utm_campaign=segmentation"),
    (6, "", '{"utm_source":"newsletter","utm_medium":"email"}',
        "?utm_source=newsletter&utm_medium=email"),
    (3, "https://news.ycombinator.com/", '{"utm_source":"hackernews","utm_medium":"referral"}',
        ""),
    (2, "https://www.reddit.com/", '{"utm_source":"reddit","utm_medium":"referral"}', ""),
    (2, "https://www.kdnuggets.com/", '{"utm_source":"kdnuggets","utm_medium":"referral"}', ""),
    # Chosen instead of google.com for visitors from France.
    (0, "https://www.google.fr/", '{"utm_source":"google","utm_medium":"organic"}', ""),
)
VISITOR_PARAMS = ((50, "{}"), (20, '{"ab_test":"A"}'), (20, '{"ab_test":"B"}'),
                  (10, '{"consent":"essential"}'))
EVENT_PARAMS = ((70, "{}"), (8, '{"scroll_depth":25}'), (8, '{"scroll_depth":50}'),
                (7, '{"scroll_depth":75}'), (7, '{"scroll_depth":100}'))
# Addresses a tracker really logs now and then: empty, masked, private, broken.
BAD_ADDRESSES = ("", "-", "unknown", "999.23.14.2", "10.0.12.7", "192.168.1.34",
                 "172.16.4.20", "127.0.0.1", "83.12.4", "2001:db8::zz")
# fmt: on
