"""The benchmark's comment mix: shared datasets' test parts plus templated comments.

Deterministic for a given size and seed. About 70% of the comments come from the held-out
(test) part of the shared datasets, so real text of every kind (tweets, news comments, spam,
URLs, personal data, other languages) is in the mix; the rest are generated from templates
for what the datasets lack: news-site comments under articles, shouting, disguised profanity,
links, a flash mob (one text from many authors) and a flood (one author posting fast).
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

from civility.standards import datasets
from civility.standards.types import Article, Comment

START = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)

# Share of the dataset part taken from each set (of its test part, capped by its size).
DATASET_SHARES: dict[str, float] = {
    "davidson_hate_offensive": 0.15,
    "civil_comments_toxic_spans": 0.08,
    "olid_offenseval2019": 0.08,
    "implicit_hate_latent": 0.06,
    "c3_constructive_comments": 0.08,
    "youtube_spam": 0.04,
    "twitter_suicidal_intention": 0.04,
    "pii_presidio_synth": 0.03,
    "langid_kaggle17": 0.03,
    "fox_news_comments_hate": 0.03,
    "jigsaw_toxic_small": 0.01,
    "stormfront_hate_sentences": 0.04,
    "datacamp_tutorial_comments_spam": 0.01,
    "phishing_urls_iscx_phishtank": 0.03,
}
DATASET_FRACTION = 0.7

ARTICLES = [
    Article(
        "Council approves new bridge over the river",
        "The vote passed 7-2 after a long debate.",
        key="bridge",
    ),
    Article(
        "Heatwave: hospitals prepare for record temperatures",
        "Doctors urge people to drink water.",
        key="heat",
    ),
    Article(
        "Local team wins the regional football cup",
        "A last-minute goal sealed the title.",
        key="football",
    ),
    Article(
        "School meals to become free for all pupils",
        "The plan costs 12 million a year.",
        key="meals",
    ),
    Article(
        "Train fares rise by five percent in March",
        "Commuters face higher costs again.",
        key="fares",
    ),
    Article(
        "New library opens with a late-night reading room",
        "It stays open until midnight.",
        key="library",
    ),
    Article(
        "Police investigate burglaries in the old town",
        "Residents are asked to lock windows.",
        key="burglary",
    ),
    Article(
        "Election debate: candidates clash over housing",
        "Rents have doubled in ten years.",
        key="housing",
    ),
]
TOPICS = {
    "bridge": "the bridge", "heat": "the heatwave", "football": "the final", "meals": "free school meals",
    "fares": "the fare rise", "library": "the new library", "burglary": "the burglaries",
    "housing": "housing",
}  # fmt: skip

CLEAN = [
    "I think {t} makes sense, but the council should publish the full costs first.",
    "Thanks for the clear report on {t}. The numbers in the second paragraph help a lot.",
    "Does anyone know when the consultation on {t} closes? I would like to write in.",
    "My neighbours and I have been talking about {t} all week. Good to see it covered.",
    "I disagree with the mayor on {t}, but I respect that she explained her reasons.",
    "Could the paper follow up on {t} in six months and check whether the promises held?",
    "As a nurse I can say {t} matters more than people think. Please keep reporting on it.",
    "Interesting piece. The comparison with other cities puts {t} in perspective.",
    "The NHS and the BBC both covered {t} yesterday, but your article explains it better.",
    "I quote the minister: 'this is idiotic'. Calling people idiots is no way to debate {t}.",
]
VIOLATING = [
    "THIS DECISION ABOUT {T} IS A DISGRACE AND EVERYONE IN THIS TOWN KNOWS IT!!!",
    "what a f*cking joke {t} is, the whole council are sh1t",
    "You are a pathetic moron if you believe anything about {t}. Go crawl back under your rock.",
    "Call Mark Evans on 020 7946 0{n:03d} or email mark.evans{n}@example.com, he lives at {n} Elm Street.",
    "Free prizes for everyone who read about {t}! Download http://bit.ly/win{n} now: setup.exe",
    "Make $5000 a week from home!!! Visit www.easy-cash{n}.biz and subscribe to my channel",
    "Buy cheap pills without prescription at pharma-direct{n}.ru, fast delivery",
    "Das ist eine sehr schlechte Entscheidung, und niemand hat die Bürger gefragt.",
    "someone should burn the houses of everyone who voted for {t}",
    "i cant stop thinking about ending it all tonight nobody would even notice",
    "ok so {t} and also my cat and the weather and whatever lol lol lol who cares anyway",
]
OPENERS = [
    "Also,", "On the other hand,", "Honestly,", "From what I saw at the meeting,", "My sister says",
    "Last year", "In my street", "For what it's worth,", "To be fair,", "As a parent,",
    "After reading the report,", "Speaking as a taxpayer,",
]  # fmt: skip
FLASH_MOB = "Stop {t} now! Sign the petition and share this everywhere before Friday!"


def build_mix(size: int = 10_000, seed: int = 20260105, root: Path | None = None) -> list[Comment]:
    """``size`` comments, in stream order (created_at rises by about a second each)."""
    rng = random.Random(seed)
    texts: list[tuple[str, Article | None]] = []
    dataset_budget = int(size * DATASET_FRACTION)
    for name, share in DATASET_SHARES.items():
        path = (root or datasets.shared_root()) / name / "data.jsonl"
        if not path.is_file():
            continue
        rows = [row for row in datasets.rows(path, part="test") if isinstance(row.get("text"), str)]
        rng.shuffle(rows)
        for row in rows[: int(dataset_budget * share / sum(DATASET_SHARES.values()))]:
            text = row["text"]
            if name.startswith("phishing"):
                text = f"More details here: {text}"
            title = row.get("article")
            # Rows without an article stay without one: pinning them to a random article
            # would make every one of them off-topic.
            article = Article(title=title, key=title) if isinstance(title, str) and title else None
            texts.append((text, article))
    while len(texts) < size:
        article = rng.choice(ARTICLES)
        topic = TOPICS[article.key]
        roll = rng.random()
        if roll < 0.6:
            template = rng.choice(CLEAN)
        elif roll < 0.97:
            template = rng.choice(VIOLATING)
        else:
            template = FLASH_MOB
        text = template.format(t=topic, T=topic.upper(), n=rng.randrange(1000))
        if template in CLEAN:
            # Two sentences and a detail of its own, so clean comments are not near-duplicates
            # of each other (which the flash_mob rule would rightly catch).
            second = rng.choice(CLEAN).format(t=topic, T=topic.upper(), n=0)
            text = f"{text} {rng.choice(OPENERS)} {second[0].lower()}{second[1:]}"
        texts.append((text, article))
    rng.shuffle(texts)
    texts = texts[:size]
    comments = []
    flooder = "user-flood"
    for index, (text, article) in enumerate(texts):
        author = f"user{rng.randrange(3000)}"
        if text.startswith("ok so"):
            author = flooder  # the flood: one author, many incoherent messages
        comments.append(
            Comment(
                text=text,
                author_id=author,
                created_at=START + timedelta(seconds=index + rng.random()),
                article=article,
                id=f"bench-{index}",
            )
        )
    return comments
