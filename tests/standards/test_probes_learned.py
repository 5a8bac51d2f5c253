"""Probe sets for rules with no public data: each must reach 90% accuracy at the default policy.

The probes (tests/standards/probes/<rule>.jsonl) were written before the models were tuned and
independently of the training seeds; half of each set are hard negatives (a quoted insult
condemned, drug policy that promotes nothing, a heated but on-topic reply...).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from civility.standards.detectors.learned import LearnedDetector
from civility.standards.detectors.topic import OffTopicDetector
from civility.standards.engine import Engine
from civility.standards.policy import default_policy
from civility.standards.types import Article, Comment, Decision

PROBES = Path(__file__).parent / "probes"
PROBE_RULES = (
    "off_topic",
    "trolling",
    "disrespect_site",
    "animal_cruelty",
    "promotion",
    "advertising",
)
REQUIRED_ACCURACY = 0.9
# Measured below the requirement (see models/README.md, "Probe sets"): kept visible as
# expected failures until the heads improve; they still run, and pass where they can. None is
# below it now: off_topic read 0.883 (7 of 60 wrong) until the off-topic model learned the
# likeness to generic reactions (2 December 2026): 0.917. animal_cruelty read 0.883 until the
# dog-fighting phrase learned "dogfighting" (1 December 2026): 0.90, at the edge.
BELOW_TARGET: dict[str, str] = {}


def load_probes(rule: str) -> list[dict[str, Any]]:
    with (PROBES / f"{rule}.jsonl").open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def to_comment(case: dict[str, Any]) -> Comment:
    raw = case.get("article")
    article = None
    if isinstance(raw, dict):
        article = Article(
            title=raw.get("title", ""), lead=raw.get("lead", ""), body=raw.get("body", "")
        )
    elif isinstance(raw, str) and raw:
        article = Article(title=raw)
    return Comment(
        text=case["text"], article=article, parent_text=case.get("parent_text", ""), id=case["id"]
    )


@pytest.fixture(scope="module")
def engine() -> Engine:
    # Only the learned detectors: the probes measure these rules, whatever else is registered.
    policy = default_policy()
    return Engine(
        policy, strict=True, detectors=[LearnedDetector(policy), OffTopicDetector(policy)]
    )


@pytest.mark.parametrize("rule", PROBE_RULES)
def test_probe_set_is_large_and_balanced(rule: str) -> None:
    cases = load_probes(rule)
    positives = sum(bool(case["expected"]) for case in cases)
    assert len(cases) >= 60
    assert len(cases) - positives >= len(cases) // 2  # at least half are (hard) negatives
    assert len({case["id"] for case in cases}) == len(cases)


@pytest.mark.parametrize(
    "rule",
    [
        pytest.param(
            rule,
            marks=pytest.mark.xfail(
                reason=f"{rule}: accuracy {BELOW_TARGET[rule]} < 0.9",
                strict=False,
            ),
        )
        if rule in BELOW_TARGET
        else rule
        for rule in PROBE_RULES
    ],
)
def test_probe_accuracy(rule: str, engine: Engine) -> None:
    cases = load_probes(rule)
    verdicts = engine.check_many([to_comment(case) for case in cases])
    wrong = [
        f"{case['id']} expected={case['expected']} score={verdict.results[rule].score:.2f}: {case['text'][:70]}"
        for case, verdict in zip(cases, verdicts, strict=True)
        if (rule in verdict.fired) != bool(case["expected"])
    ]
    accuracy = 1 - len(wrong) / len(cases)
    assert accuracy >= REQUIRED_ACCURACY, f"{rule}: accuracy {accuracy:.2f}\n" + "\n".join(wrong)


# Pharmacy spam ("buy cheap viagra pills online") once fired self_harm: the self_harm seeds
# mention pills. Team-written pharmacy spam is now a hard negative for self_harm
# (training/seeds/pharmacy_spam.jsonl); these cases are not among those seeds.
PILL_SPAM = (
    "buy cheap viagra pills online, best prices, no prescription",
    "Order cheap cialis pills online today, discreet delivery to your door.",
    "Best online drugstore: pills for every problem, 50% off this week only!!!",
    "cheap pills cheap pills cheap pills www.pillshop.example",
    "Want to lose weight fast? These pills melt fat, buy now while stocks last.",
    "Generic pills shipped overnight, no doctor needed, pay with paypal.",
)


@pytest.mark.parametrize("text", PILL_SPAM)
def test_pill_spam_is_not_self_harm(text: str, engine: Engine) -> None:
    verdict = engine.check(Comment(text))
    assert "self_harm" not in verdict.fired, verdict.results["self_harm"].score


def test_pill_spam_still_reads_as_commerce(engine: Engine) -> None:
    verdicts = engine.check_many([Comment(text) for text in PILL_SPAM])
    flagged = sum(bool({"spam", "advertising"} & set(v.fired)) for v in verdicts)
    assert flagged >= len(PILL_SPAM) - 1


def test_incitement_to_self_harm_with_pills_still_fires(engine: Engine) -> None:
    verdict = engine.check(Comment("Just take all the pills in the bottle and kill yourself."))
    assert "self_harm" in verdict.fired


@pytest.mark.parametrize(
    ("text", "hits"),
    [
        ("We kicked the stray dogs out of the yard every night, great fun.", True),
        ("Those kittens should have been drowned, nobody wants them.", True),
        ("The court heard he kicked the dogs daily; he was jailed for 18 weeks.", False),
        ("Poisoned meat left for the foxes and cats: the RSPCA is investigating.", False),
    ],
)
def test_cruelty_phrases_told_as_news_do_not_hit(text: str, hits: bool) -> None:
    from civility.standards.detectors.learned_model import lexicon_hits

    assert bool(lexicon_hits("animal_cruelty", text)) is hits


# "Work from home" get-rich-quick spam, the commonest spam under news articles (rule 13), and
# comments about pay and remote work that must not read as spam. Written apart from the seeds
# (training/seeds/spam_get_rich_quick.jsonl), before the heads were retrained on them.
GET_RICH_QUICK = (
    "I get paid over $190 per hour working from home with 2 kids at home. I never thought I'd be able to do it but my best friend earns over 15k a month doing this and she convinced me to try. Go to this site for more details",
    "Google is paying $27485 to $29658 per month for working online from home. I have joined this job 2 months ago and I have earned $31547 in my first month from this job. Copy this link for more information",
    "my neighbor's mom makes $72 an hour on the laptop. She has been without work for eight months but last month her paycheck was $13792 just working on the laptop for a few hours.",
    "Start making cash right now... Get more time with your family by doing jobs that only require for you to have a computer and an internet access and you can have that at your home.",
    "Just quit my regular job and now I earn 9,000 dollars a month typing from my couch, the details are on the page linked in my name",
    "upto I saw the draft of $9845, I didnt believe that my father in law realey bringing in money part time on their computer. there uncles cousin has been doing this for under 11 months",
    "Real online income opportunity: earn 400 euros daily, payment every Friday, contact me privately for the registration link",
    "Retired at 52 thanks to a home business that pays me $2,200 a week, anyone can join, see my profile",
)
PAY_AND_REMOTE_WORK = (
    "Remote work has changed how much people earn: my sister now makes less working from home but saves on the commute.",
    "The minimum wage rise to 12 pounds an hour will help a lot of families, but small shops worry about costs.",
    "I worked from home for two years during the pandemic and honestly my productivity went up.",
    "Care workers are paid about $16 an hour here; no wonder the homes can't find staff.",
    "The consultation documents are online, go to the council site for more details before the vote.",
    "My dad earned more in the steelworks in 1985 than I do today as a graduate, adjusted for inflation.",
    "Beware of those fake job adverts promising thousands a month from home, my mum nearly fell for one.",
    "Freelancers who work online from home should get the same sick pay rights, as the union argues.",
)


# Threats against the people in the news and the newsroom, and comments that only sound like
# them (justice, sport, idioms, reports of threats). Written apart from the seeds
# (training/seeds/threat_targeted.jsonl), before the heads were retrained on them.
THREATS = (
    "People like this journalist should be dragged out and taught a lesson they won't forget.",
    "If I ever meet the mayor in a dark alley he won't walk away from it.",
    "Someone should put a bullet in that judge.",
    "Keep writing this garbage and we'll pay your newsroom a visit, bring a helmet.",
    "That councillor needs a brick through his window to wake him up.",
    "I hope someone stabs the minister on his way home.",
    "Tell the editor his family isn't safe if this story stays up.",
    "Hang them all, starting with the reporter.",
)
NOT_THREATS = (
    "The minister should be held responsible and lose his seat.",
    "A man was jailed for threatening to kill the MP, good riddance.",
    "They murdered that song at the concert, my ears still hurt.",
    "The referee should be dropped from the next match after that call.",
    "My grandfather was shot at in the war and never talked about it.",
    "Violent threats against reporters are rising, the union says, and that has to stop.",
    "I'm going to fight this parking fine, it's ridiculous.",
    "The city will pay dearly for neglecting the sea wall.",
)


# Dealing under news articles (rule 14): where to score, who to ask, what it costs, and comments
# that share the words or the shape but sell nothing illegal. Written apart from the seeds
# (training/seeds/narcotics_dealing.jsonl), before the heads were retrained on them.
DEALING = (
    "Best place to score molly in town is the back bar at the Crown on Fridays, ask for Dave.",
    "If the cops shut down that house there are three more on Elm Street doing the same, quality gear too.",
    "Anyone after zaza, I do drops across the north side, snap me and I'll sort you out.",
    "Get your scripts for oxys from the walk-in clinic on 5th, say it's your back and they hand them out.",
    "Forget the festival testing tent, just buy your pills off the guys by the toilets, 10 quid each.",
    "My cousin grows the strongest kush in the county and he'll post it anywhere, message me.",
    "Half the dealers were arrested but the new lad in the car park still does a good bag of white.",
    "Crush the xanax bars and mix them with a bit of codeine syrup, best night you'll ever have.",
)
NOT_DEALING = (
    "Best place to pick up cheap tyres is the unit behind the Crown on Fridays, ask for Dave.",
    "The police shut down one crack house but there are three more on Elm Street, the residents say.",
    "My mate does deliveries across the north side for the bakery, their sourdough is incredible.",
    "The walk-in clinic on 5th handed out opioids far too easily, the inquiry found.",
    "Festival drug testing tents save lives, I wish every event had one.",
    "My cousin grows the strongest chillies in the county, he sells them at the Saturday market.",
    "Half the gang were arrested after a year of surveillance, a good result for the town.",
    "Mixing xanax with codeine can stop your breathing, the coroner warned after the inquest.",
)


# Slur-free hate of the kind news comments carry (rule 2), and comments on the same topics that
# demean nobody for who they are. Written apart from the seeds (training/seeds/hate_targeted.jsonl),
# before the heads were retrained on them.
GROUP_HATE = (
    "Mothers belong at home, women in the workplace are why our children are feral.",
    "Another female referee, another shambles. Women have no place running a men's game.",
    "These migrants breed like rats and our towns are paying for it.",
    "Muslims can never be loyal to this country, ban them from public office.",
    "Gay couples raising children is a sickness and it should be illegal again.",
    "The Jews own the media, that's why this paper prints what it prints.",
    "Disabled people are a drain, we'd be better off without them on benefits and in the queues.",
    "Send every one of the Roma back where they came from, they are thieves by nature.",
)
NOT_GROUP_HATE = (
    "Whoever posted that women are too stupid to vote should be ashamed, moderators please remove it.",
    "The referee had a shambles of a game, she missed two clear penalties.",
    "Migration has grown faster than our housing, and the council needs a plan for that.",
    "The mayor should resign over the contracts scandal, whatever his religion.",
    "I disagree with the adoption bill, but the couples I know raise wonderful children.",
    "This paper's owner has too much influence on its editorials.",
    "The benefits assessment for disabled people is cruel and slow, the report shows.",
    "People who don't pick up after their dogs should be banned from the park.",
)


# (rule, violations, how many may be missed, look-alikes, how many of them may reach the queue
# point)
NEWS_COMMENT_CHECKS = {
    # 6 of 8 get-rich-quick comments fired spam, 2 before the seeds and cues.
    "spam": (GET_RICH_QUICK, 2, PAY_AND_REMOTE_WORK, 0),
    # 8 of 8 threats fired threat, 0 before the seeds and cues.
    "threat": (THREATS, 1, NOT_THREATS, 0),
    # 7 of 8 dealing comments fired narcotics, 3 before the seeds and cues. "Cheap tyres at the
    # unit behind the Crown, ask for Dave" reads as dealing to the head (0.74 before, 0.69
    # after; it queues as advertising anyway).
    "narcotics": (DEALING, 1, NOT_DEALING, 1),
    # 7 of 8 slur-free hate comments fired hate, 5 before the seeds and cues; the closest
    # look-alike (a report of a misogynist comment) went from 0.30 to 0.43.
    "hate": (GROUP_HATE, 1, NOT_GROUP_HATE, 0),
}


@pytest.mark.parametrize("rule", NEWS_COMMENT_CHECKS)
def test_news_comment_violations_fire_and_their_look_alikes_do_not(
    rule: str, engine: Engine
) -> None:
    violations, may_miss, look_alikes, may_fire = NEWS_COMMENT_CHECKS[rule]
    verdicts = engine.check_many([Comment(text) for text in violations + look_alikes])
    missed = [
        text[:50]
        for text, v in zip(violations, verdicts[: len(violations)], strict=True)
        if rule not in v.fired
    ]
    assert len(missed) <= may_miss, missed
    scores = {
        text[:40]: round(v.results[rule].score, 2)
        for text, v in zip(look_alikes, verdicts[len(violations) :], strict=True)
    }
    assert sum(score >= 0.5 for score in scores.values()) <= may_fire, scores


def test_talk_about_suicide_is_published_and_distress_is_never_removed(engine: Engine) -> None:
    """probes/suicide_talk.jsonl: 160 posts written for this check, apart from the training
    seeds. Kind B (120) breaks no rule: comments on suicide-prevention and mental-health news,
    recovery told in the past, replies that ask a struggling reader about suicide and give a
    helpline, grief, idioms ("this commute is killing me"). Kind A (40) is a reader in distress
    now: rule 9 forbids methods and incitement, not that, so the learned rules may hold such a
    post for a moderator but must never remove it. Before the wellbeing seeds the learned rules
    held 15 of the B posts (trolling, narcotics and minors among them); 9 after them; 10 on
    2 December 2026, once a helpline's number stopped counting as personal data (advertising
    still holds two helpline replies, self_harm two idioms)."""
    cases = [json.loads(line) for line in (PROBES / "suicide_talk.jsonl").open(encoding="utf-8")]
    verdicts = engine.check_many([to_comment(case) for case in cases])
    held = [
        (case["text"][:40], v.fired)
        for case, v in zip(cases, verdicts, strict=True)
        if case["kind"] == "B" and v.fired
    ]
    assert len(held) <= 12, held  # at most 10% of the 120
    removed = [
        case["text"][:40]
        for case, v in zip(cases, verdicts, strict=True)
        if case["kind"] == "A" and v.decision is Decision.REJECT
    ]
    assert removed == []


def test_dog_fighting_in_every_spelling_and_not_in_the_air(engine: Engine) -> None:
    # The phrase knew "dogfight(s)" and "dog fight(s)" but not "dogfighting", the usual word
    # for the practice; an air battle in a film is not cruelty.
    fired = [
        "animal_cruelty" in engine.check(Comment(text=text)).fired
        for text in (
            "Dogfighting is a proper sport, my pit won three fights last month.",
            "Dog-fighting is great entertainment, we bet on it every Friday.",
            "Dog fights are great fun, we bet on them every Friday.",
            "I love the old WW2 dogfight scenes in that film, great fun.",
            "Dogfighting is a vile tradition and the police should end it.",
        )
    ]
    assert fired == [True, True, True, False, False]


# Prize, premium-rate and giveaway spam and their look-alikes, written for this check apart from
# seeds/spam_prize_scams.jsonl (2 December 2026). Before those seeds 4 of the 12 fired spam;
# after, 7 (4 of the rest are queued by advertising or privacy; the chain message is
# published), and none of the 12 look-alikes.
PRIZE_SPAM = (
    "CONGRATS! Your number was drawn in the Summer Mega Giveaway. £1,500 is waiting, ring 09050 339 821 to collect (£1.50/min, 18+).",
    "You've been chosen for a FREE Samsung Galaxy! Text GALAXY to 62255 now, offer ends tonight. Std msg rates apply.",
    "Final reminder: an unclaimed reward of $2,000 is registered to this account. Reply CLAIM with your full name and bank details.",
    "Elon is giving away 5,000 BTC to celebrate! Send any amount to the address below and get double back instantly.",
    "u r a lucky winner of our xmas hamper + £250 cash!! call 0871 277 0155 quoting WIN25 b4 fri",
    "Royal Mail: your parcel could not be delivered. Pay the £1.45 redelivery fee here to rebook: royalmail-redeliver.example",
    "Hot local singles are waiting to meet you tonight!! Txt MEET to 89070, first chat FREE. 18+ £2/msg",
    "Send this to 15 people in the next hour and you will get amazing news tomorrow. Break the chain and bad luck follows for 7 years!",
    "You have won a brand new car in our online sweepstake!!! Pay the small processing fee of $99 to release your prize.",
    "Get 25,000 real Instagram followers for only £9.99 - instant delivery, no password needed, DM us now",
    "IMPORTANT: you are owed £3,160 in mis-sold PPI compensation. Call our claims team free on 0800 011 4477 today.",
    "Spin the wheel and win up to £500 free cash every day, no deposit needed, join now at lucky-spinz.example",
)
PRIZE_SPAM_LOOK_ALIKES = (
    "I got a text yesterday saying I'd won a free Galaxy phone. Deleted it straight away, these scams are everywhere now.",
    "Well done to the couple who won the Euromillions, hope they spend it wisely and help the family.",
    "The school raffle raised £800 for the new playground, the hamper went to a lovely lady from the bakery.",
    "My dad paid a fake parcel fee last month and lost £400 from his account. The banks need to do more about this.",
    "Bitcoin fell below 60k again today, glad I sold half in the spring.",
    "running late, will text when i'm at the station. get the kettle on!",
    "Chain letters were a thing back in the 90s too, my gran used to get them by post and bin them.",
    "Premium-rate numbers at £3.60 a minute for a helpline is disgraceful, the regulator should ban it.",
    "Congratulations to the under-12s on winning the county cup, brilliant effort from the whole squad.",
    "PPI claims firms cold-called my mum for years. Glad that scheme is finally over.",
    "Buying followers is pathetic but half the influencers in this article clearly have.",
    "Free entry for under 16s at the museum this weekend, worth a visit if you're in town.",
)


def test_prize_and_premium_rate_spam_fire_and_their_look_alikes_do_not(engine: Engine) -> None:
    verdicts = engine.check_many([Comment(text) for text in PRIZE_SPAM + PRIZE_SPAM_LOOK_ALIKES])
    fired = [v.results["spam"].score >= 0.5 for v in verdicts]
    assert sum(fired[: len(PRIZE_SPAM)]) >= 7
    assert not any(fired[len(PRIZE_SPAM) :]), [
        text
        for text, hit in zip(PRIZE_SPAM_LOOK_ALIKES, fired[len(PRIZE_SPAM) :], strict=True)
        if hit
    ]
