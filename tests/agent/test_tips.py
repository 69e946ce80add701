"""Meta-prompt evolution: tips scored by what the prompts that carried them led to."""

from __future__ import annotations

import random
from collections import Counter

from agent.tips import MAX_POOL, MAX_TIP_CHARS, Tip, TipPool, build_meta_prompt, builtin_tips, parse_tip


def test_the_builtin_tips_are_package_data_with_unique_ids() -> None:
    tips = builtin_tips()
    assert len(tips) >= 6
    assert len({t.id for t in tips}) == len(tips)
    assert all(t.text and not t.evolved for t in tips)


def test_a_tip_that_pays_is_shown_far_more_often_than_one_that_never_does() -> None:
    pool = TipPool([Tip("good", "a"), Tip("bad", "b"), Tip("new", "c")], per_prompt=1, rng=random.Random(3))
    for _ in range(20):
        pool.credit(["good"], improved=True)
        pool.credit(["bad"], improved=False)
    shown = Counter(pool.choose()[0].id for _ in range(2000))
    assert shown["good"] > 10 * max(shown["bad"], 1)
    assert shown["new"] > 0  # an untried tip keeps a chance
    assert pool.score("good").trials == 20 and pool.score("good").successes == 20
    assert next(t.id for t, _ in pool.ranked()) == "good"


def test_each_prompt_gets_distinct_tips() -> None:
    pool = TipPool(per_prompt=2, rng=random.Random(0))
    for _ in range(50):
        chosen = pool.choose()
        assert len(chosen) == 2 and chosen[0].id != chosen[1].id


def test_a_meta_answer_becomes_a_tip_only_when_well_formed() -> None:
    tip = parse_tip("Here is my idea.\n\n## Split K\n\nSplit the K loop across programs.\n")
    assert tip == Tip("evolved-split-k", "Split the K loop across programs.", evolved=True)
    assert parse_tip("Just prose with no heading.") is None
    assert parse_tip("## a-tip\n\nOne.\n\n## b-tip\n\nTwo.") is None  # one tip per answer
    assert parse_tip("## empty\n\n") is None
    assert parse_tip("## !!!\n\nbad id") is None
    assert parse_tip("## long\n\n" + "x" * (MAX_TIP_CHARS + 1)) is None


def test_the_pool_refuses_repeats_and_stays_bounded() -> None:
    pool = TipPool([Tip("base", "keep me")], rng=random.Random(0))
    assert not pool.add(Tip("base", "other"))
    assert not pool.add(Tip("other", "keep me"))
    for i in range(MAX_POOL + 5):
        pool.add(Tip(f"evolved-{i}", f"text {i}", evolved=True))
        pool.credit([f"evolved-{i}"], improved=i % 2 == 0)
    assert len(pool) == MAX_POOL
    assert "base" in {t.id for t in pool.tips}  # a built-in tip is never pushed out


def test_the_meta_prompt_shows_each_tip_with_its_record() -> None:
    pool = TipPool([Tip("fuse", "Fuse it.")], rng=random.Random(0))
    pool.credit(["fuse"], improved=True)
    system, user = build_meta_prompt(pool, "softmax", ["c1 over its parent: 1.4x"])
    assert system.role == "system" and "Crucible" in system.content
    assert "**fuse** (1 of 1 improved): Fuse it." in user.content
    assert "c1 over its parent: 1.4x" in user.content and "## short-id" in user.content
