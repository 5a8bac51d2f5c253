"""The community standards (product.md section 4) as data.

A rule *number* is the publisher's numbering (1-20); a *slug* is the name used everywhere
else (API, CLI, data, audit log). Rules 5 and 8 each have two slugs.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Rule:
    slug: str
    number: int
    title: str
    text: str


RULES: tuple[Rule, ...] = (
    Rule("off_topic", 1, "Off-topic", "is off-topic for the article it is posted under"),
    Rule(
        "hate",
        2,
        "Hatred or discrimination",
        "promotes hatred or discrimination on racial, ethnic, sexual, religious or social grounds, "
        "or violates the rights of minorities",
    ),
    Rule("minors", 3, "Harm to minors", "harms minors in any form, moral harm included"),
    Rule(
        "extremism",
        4,
        "Extremism or illegal activity",
        "carries extremist ideas or calls for other illegal activity",
    ),
    Rule(
        "insult",
        5,
        "Insult",
        "insults other users, people or organisations, or attacks dignity or business reputation",
    ),
    Rule("threat", 5, "Threat", "threatens other users, people or organisations"),
    Rule(
        "disrespect_site",
        6,
        "Disrespect of the publisher",
        "insults or disrespects the publisher itself",
    ),
    Rule(
        "privacy",
        7,
        "Privacy violation",
        "violates privacy: personal data of third parties without consent, private correspondence",
    ),
    Rule("violence", 8, "Violence", "describes or refers to violence"),
    Rule("animal_cruelty", 8, "Cruelty to animals", "describes or refers to cruelty to animals"),
    Rule("self_harm", 9, "Suicide", "describes methods of suicide or incites suicide"),
    Rule(
        "advertising",
        10,
        "Advertising",
        "pursues commercial aims: advertising, unlawful political advertising, links to such",
    ),
    Rule(
        "promotion",
        11,
        "Unauthorised promotion",
        "promotes third-party products or services without authorisation",
    ),
    Rule(
        "profanity",
        12,
        "Profanity",
        "contains profanity or offensive language, including disguised forms and hints",
    ),
    Rule(
        "spam",
        13,
        "Spam",
        "is spam, advertises spamming or mass mailing, or get-rich-quick schemes",
    ),
    Rule(
        "narcotics",
        14,
        "Narcotics",
        "promotes narcotic or psychotropic substances, or explains making or using them",
    ),
    Rule("malware_link", 15, "Malicious link", "links to viruses or malicious software"),
    Rule(
        "flash_mob",
        16,
        "Organised action",
        'is part of an organised action of many identical or near-identical comments ("flash mob")',
    ),
    Rule("flood", 17, "Flood", "floods a thread with many incoherent or irrelevant messages"),
    Rule(
        "trolling",
        18,
        "Trolling",
        'is aggressive, humiliating or abusive behaviour towards others ("trolling")',
    ),
    Rule(
        "shouting",
        19,
        "Written-language rules",
        "ignores the basic rules of written language: fully or mostly in capital letters, "
        "or not broken into sentences",
    ),
    Rule(
        "foreign_language",
        20,
        "Foreign language",
        "is in a language other than the site's majority language",
    ),
)

RULES_BY_SLUG: dict[str, Rule] = {rule.slug: rule for rule in RULES}
SLUGS: tuple[str, ...] = tuple(rule.slug for rule in RULES)


def rule_label(slug: str) -> str:
    """Return the author-facing label, e.g. ``rule 5, Insult``."""
    rule = RULES_BY_SLUG[slug]
    return f"rule {rule.number}, {rule.title}"


def rule_label_or(slug: str, fallback: str) -> str:
    """The label of ``slug``, or ``fallback`` when it names no rule (a removal for no rule, a
    slug from an older engine)."""
    return rule_label(slug) if slug in RULES_BY_SLUG else fallback
