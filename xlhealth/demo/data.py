"""Realistic synthetic input sheets for the demo and the benchmarks.

Each customer has a hidden health ``h`` in [0, 1] and a hidden maturity; every
export (logins, tickets, surveys, meetings, onboarding) is drawn from them
with noise, and outcomes follow ``h`` only loosely, so the score predicts churn
imperfectly, as in real life. Everything is drawn column-wise with numpy:
100k customers (~3M events) take seconds. Seeded, so runs are repeatable.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from xlhealth.core.config import default_model
from xlhealth.demo.cast import NAMES, ONBOARDING_STEPS, OWNER_EMAILS, OWNERS, SEGMENTS

AS_OF = dt.date(2026, 11, 20)


def generate(
    n: int = 300, lang: str = "en", seed: int = 42, as_of: dt.date = AS_OF, drift: int = 0
) -> dict[str, pd.DataFrame]:
    """Input sheets (Customers, Usage, Logins, Support, Surveys, Contacts, Onboarding, Maturity,
    Overrides).

    ``drift`` > 0 gives the same customers at another moment: their hidden health
    moved a little (a few a lot), so a second refresh shows ups and downs.
    """
    rng = np.random.default_rng(seed)
    day = np.datetime64(as_of, "D")
    health = rng.beta(2.2, 1.8, n)
    maturity = np.clip(rng.normal(2.9, 0.9, n) + 0.6 * (health - 0.5), 1, 5)
    if drift:
        moves = np.random.default_rng([seed, drift])
        shock = np.where(moves.random(n) < 0.1, moves.normal(0, 0.25, n), 0)
        health = np.clip(health + moves.normal(0, 0.06, n) + shock, 0.01, 0.99)
    ids = np.array([f"CUST-{i + 1:05d}" for i in range(n)], dtype=object)

    first, second = NAMES[lang]
    a = rng.integers(0, len(first), n)
    b = rng.integers(0, len(second), n)
    if lang == "ja":
        names = np.char.add(np.char.add("株式会社", np.array(first)[a]), np.array(second)[b])
    else:
        names = np.char.add(np.char.add(np.array(first)[a], " "), np.array(second)[b])
    names = _unique(names.astype(object))
    segment_idx = rng.choice(3, n, p=[0.2, 0.3, 0.5])
    seats = np.select(
        [segment_idx == 0, segment_idx == 1],
        [rng.integers(200, 1500, n), rng.integers(40, 200, n)],
        rng.integers(5, 40, n),
    )
    owner_idx = rng.integers(0, len(OWNERS[lang]), n)
    domains = np.char.add(
        np.char.add("c", np.arange(n).astype(str)),
        ".example.co.jp" if lang == "ja" else ".example.com",
    ).astype(object)
    tenure = rng.integers(20, 1500, n)  # days since the contract started
    renewal_offset = rng.integers(-240, 365, n)
    stage = np.where(
        tenure < 90, "onboarding", np.where(renewal_offset < 90, "renewal", "adoption")
    )
    customers = pd.DataFrame(
        {
            "customer_id": ids,
            "customer_name": names,
            "segment": np.array(SEGMENTS[lang], dtype=object)[segment_idx],
            "owner": np.array(OWNERS[lang], dtype=object)[owner_idx],
            "owner_email": np.char.add(np.array(OWNER_EMAILS)[owner_idx], "@ourcompany.example"),
            "arr": (seats * rng.choice([900, 1200, 1500], n)).astype(float),
            "seats": seats,
            "renewal_date": day + renewal_offset.astype("timedelta64[D]"),
            "stage": stage,
            "email_domain": domains,
            "exemplar": None,
            "outcome": None,
            "outcome_date": None,
        }
    )
    _outcomes_and_exemplars(customers, health, renewal_offset, rng)

    # Logins: about 20 per customer, more and by more users when healthy.
    per = np.maximum(1, rng.poisson(4 + 30 * health))
    li = np.repeat(np.arange(n), per)
    active_share = np.clip(health[li] * 1.1, 0.05, 1)
    users = np.maximum(1, (seats[li] * active_share * rng.random(li.size)).astype(int))
    gap = rng.exponential(2 + 25 * (1 - health[li]) ** 2, li.size)
    login_day = day - np.floor(gap * rng.integers(1, 4, li.size)).astype("timedelta64[D]")
    via_email = rng.random(li.size) < 0.15  # some exports only carry the user's email
    user = np.char.add("u", users.astype(str)).astype(object)
    logins = pd.DataFrame(
        {
            "customer_id": np.where(via_email, None, ids[li]),
            "email": np.where(via_email, user + "@" + domains[li], None),
            "user_id": user,
            "date": login_day,
        }
    )

    ti = np.repeat(np.arange(n), rng.poisson(1 + 4 * (1 - health)))
    complaint = rng.random(ti.size) < 0.05 + 0.35 * (1 - health[ti])
    support = pd.DataFrame(
        {
            "customer_id": ids[ti],
            "opened": day - rng.integers(0, 180, ti.size).astype("timedelta64[D]"),
            "category": np.where(
                complaint, "complaint", rng.choice(["question", "bug", "request"], ti.size)
            ),
            "severity": rng.integers(1, 5, ti.size),
        }
    )

    si = np.repeat(np.arange(n), rng.integers(0, 3, n))
    surveys = pd.DataFrame(
        {
            "customer_id": ids[si],
            "date": day - rng.integers(0, 400, si.size).astype("timedelta64[D]"),
            "nps": np.clip(np.round(2 + 8.5 * health[si] + rng.normal(0, 1.6, si.size)), 0, 10),
        }
    )

    ci = np.repeat(np.arange(n), rng.poisson(1 + 6 * health))
    kind = rng.choice(["call", "meeting", "qbr", "email"], ci.size, p=[0.35, 0.3, 0.1, 0.25])
    executive = rng.random(ci.size) < 0.08 + 0.25 * health[ci]
    contacts = pd.DataFrame(
        {
            "customer_id": ids[ci],
            "date": day
            - np.floor(rng.exponential(40 + 120 * (1 - health[ci]), ci.size)).astype(
                "timedelta64[D]"
            ),
            "kind": kind,
            "role": np.where(executive, "executive", rng.choice(["user", "manager"], ci.size)),
        }
    )

    onboarding = _onboarding(ids, tenure, health, day, rng)
    usage = pd.DataFrame(
        {
            "customer_id": ids,
            "key_features_used": rng.binomial(6, np.clip(health * 0.9 + 0.05, 0, 1)),
            "value_realised": np.clip(health + rng.normal(0, 0.18, n), 0, 1).round(2),
        }
    )
    sheets = {
        "Customers": customers,
        "Usage": usage,
        "Logins": logins,
        "Support": support,
        "Surveys": surveys,
        "Contacts": contacts,
        "Onboarding": onboarding,
        "Maturity": _maturity(ids, maturity, day, rng, OWNERS[lang]),
    }
    _before_outcomes(sheets, health, np.random.default_rng([seed, 13]))
    sheets["Overrides"] = _overrides(customers, health, renewal_offset, day, lang)
    return sheets


OVERRIDE_REASONS = {  # (tier or score, reason en, reason ja, days until expiry)
    "down": (
        "2 At risk",
        "2 要注意",
        "Executive sponsor left last month; the new VP is reviewing every vendor before renewal",
        "役員スポンサーが先月退職。新任の本部長が更新前に全ベンダーを見直し中",
        45,
    ),
    "score": (
        65.0,
        65.0,
        "Logins since the SSO migration are missing from the export; the admin confirms daily use",
        "SSO移行後のログインがエクスポートに出ていない。管理者が毎日の利用を確認済み",
        30,
    ),
    "up": (
        "Healthy",
        "良好",
        "Signed a 3-year extension last week; usage is ramping up with the new team",
        "先週3年契約の延長に署名。新チームで利用が拡大中",
        90,
    ),
    "expired": (
        "3",
        "3",
        "Pilot in the APAC team: re-check after the pilot",
        "APACチームで試験導入中。試験後に再評価",
        -12,
    ),
}


def _overrides(
    customers: pd.DataFrame,
    health: np.ndarray,
    renewal_offset: np.ndarray,
    day: np.datetime64,
    lang: str,
) -> pd.DataFrame:
    """A CSM's judgements: a healthy-looking account renewing soon marked At risk, two weak
    ones marked up (a score and a tier name), and one whose expiry has passed (Checks)."""
    open_ = (renewal_offset >= 0) & customers["exemplar"].isna().to_numpy()
    taken: list[int] = []

    def pick(mask: np.ndarray, best: str) -> int | None:
        mask = mask & open_ & ~np.isin(np.arange(len(health)), taken)
        if not mask.any():
            return None
        at = np.flatnonzero(mask)
        choice = {"high": np.argmax, "low": np.argmin}
        if best in choice:
            i = int(at[choice[best](health[at])])
        else:  # nearest the median
            i = int(at[np.argmin(np.abs(health[at] - np.median(health)))])
        taken.append(i)
        return i

    picks = {
        "down": pick((renewal_offset >= 14) & (renewal_offset <= 80), "high"),
        "score": pick(renewal_offset > 120, "low"),
        "up": pick(renewal_offset > 90, "low"),
        "expired": pick(renewal_offset > 30, "median"),
    }
    rows = []
    for kind, i in picks.items():
        if i is None:
            continue
        value_en, value_ja, reason_en, reason_ja, days = OVERRIDE_REASONS[kind]
        value = value_ja if lang == "ja" else value_en
        rows.append(
            {
                "customer_id": customers["customer_id"].iloc[i],
                "score": value if isinstance(value, float) else np.nan,
                "tier": None if isinstance(value, float) else value,
                "reason": reason_ja if lang == "ja" else reason_en,
                "by": customers["owner"].iloc[i],
                "until": pd.Timestamp(day + np.timedelta64(days, "D")),
            }
        )
    return pd.DataFrame(rows, columns=["customer_id", "score", "tier", "reason", "by", "until"])


def _unique(names: np.ndarray) -> np.ndarray:
    """Suffix repeated names (' 2', ' 3', ...) so every customer is tellable apart."""
    s = pd.Series(names)
    n = s.groupby(s).cumcount()
    return np.where(n > 0, s + " " + (n + 1).astype(str), s).astype(object)


def _outcomes_and_exemplars(
    customers: pd.DataFrame,
    health: np.ndarray,
    renewal_offset: np.ndarray,
    rng: np.random.Generator,
) -> None:
    """Outcomes for renewals already past (churn follows health loosely); a few exemplars."""
    past = renewal_offset < 0
    p_churn = 1 / (1 + np.exp(8 * (health - 0.35)))
    churned = rng.random(len(health)) < p_churn
    customers["outcome"] = np.where(past, np.where(churned, "churned", "renewed"), None)
    customers["outcome_date"] = customers["renewal_date"].where(past)
    renewed = past & ~churned  # a renewed contract's next renewal is a year on
    customers.loc[renewed, "renewal_date"] += np.timedelta64(365, "D")
    customers.loc[renewed & (customers["stage"] == "renewal").to_numpy(), "stage"] = "adoption"
    order = np.argsort(health)
    k = max(1, min(4, len(health) // 50))
    exemplar = np.full(len(health), None, dtype=object)
    exemplar[order[-k:]] = "good"
    exemplar[order[:k]] = "bad"
    customers["exemplar"] = exemplar


def _before_outcomes(
    sheets: dict[str, pd.DataFrame], health: np.ndarray, rng: np.random.Generator
) -> None:
    """The months before each outcome, so the honest back-test has something to see.

    Customers whose renewal is past get logins from 150 days before the outcome (at a
    rate set by their health; churners somewhat less), and a churned customer's rows
    after its churn date are dropped: it left. Scored today, churners look dead — an
    optimistic back-test; scored 90 days before, they only look a little weaker.
    """
    customers = sheets["Customers"]
    ids = customers["customer_id"].to_numpy(dtype=object)
    ended = pd.to_datetime(customers["outcome_date"]).to_numpy().astype("datetime64[D]")
    churned = (customers["outcome"] == "churned").to_numpy()
    has = np.flatnonzero(~np.isnat(ended))
    rate = (4 + 30 * health[has]) / 45 * np.where(churned[has], 0.8, 1.0)
    per = rng.poisson(rate * 150)
    li = np.repeat(has, per)
    back = rng.integers(1, 151, li.size).astype("timedelta64[D]")
    seats = customers["seats"].to_numpy()[li]
    users = np.maximum(1, (seats * np.clip(health[li] * 1.1, 0.05, 1) * rng.random(li.size)))
    logins = sheets["Logins"]
    user = np.char.add("u", users.astype(int).astype(str)).astype(object)
    earlier = pd.DataFrame(
        {
            "customer_id": ids[li],
            "email": None,
            "user_id": user,
            "date": ended[li] - back,
        }
    )
    sheets["Logins"] = pd.concat([logins, earlier], ignore_index=True)
    left = {i: d for i, d, c in zip(ids, ended, churned, strict=True) if c}
    domains = customers["email_domain"].to_numpy(dtype=object)
    left_domain = {dom: d for dom, d, c in zip(domains, ended, churned, strict=True) if c}
    for name, column in (
        ("Logins", "date"),
        ("Support", "opened"),
        ("Surveys", "date"),
        ("Contacts", "date"),
    ):
        frame = sheets[name]
        end = pd.to_datetime(frame["customer_id"].map(left)).to_numpy().astype("datetime64[D]")
        if "email" in frame.columns:
            dom = frame["email"].astype("string").str.split("@").str[-1].astype(object)
            by_email = pd.to_datetime(dom.map(left_domain)).to_numpy().astype("datetime64[D]")
            end = np.where(np.isnat(end), by_email, end)
        after = pd.to_datetime(frame[column]).to_numpy().astype("datetime64[D]") > end
        sheets[name] = frame[~after].reset_index(drop=True)


def _onboarding(
    ids: np.ndarray,
    tenure: np.ndarray,
    health: np.ndarray,
    day: np.datetime64,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Five steps for customers in their first 90 days; the less healthy fall behind."""
    new = np.flatnonzero(tenure < 90)
    steps = len(ONBOARDING_STEPS)
    oi = np.repeat(new, steps)
    k = np.tile(np.arange(steps), new.size)
    standard = np.array([d for _, d in ONBOARDING_STEPS])[k]
    start_offset = np.array([0, 7, 14, 21, 30])[k] * (1.5 - health[oi])
    started = (
        day
        - tenure[oi].astype("timedelta64[D]")
        + start_offset.astype(int).astype("timedelta64[D]")
    )
    took = (standard * (0.5 + 1.5 * (1 - health[oi])) * rng.uniform(0.6, 1.4, oi.size)).astype(int)
    completed = started + took.astype("timedelta64[D]")
    not_started = started > day
    completed = np.where(completed > day, np.datetime64("NaT"), completed)
    return pd.DataFrame(
        {
            "customer_id": ids[oi],
            "step": np.array([s for s, _ in ONBOARDING_STEPS], dtype=object)[k],
            "standard_days": standard,
            "started": np.where(not_started, np.datetime64("NaT"), started),
            "completed": completed,
        }
    )


def _maturity(
    ids: np.ndarray,
    maturity: np.ndarray,
    day: np.datetime64,
    rng: np.random.Generator,
    assessors: list[str],
) -> pd.DataFrame:
    """Questionnaire answers for about 40% of customers (every factor, levels 1-5)."""
    factors = [f.factor for f in default_model().maturity.factors]
    assessed = np.flatnonzero(rng.random(len(ids)) < 0.4)
    mi = np.repeat(assessed, len(factors))
    level = np.clip(np.round(maturity[mi] + rng.normal(0, 0.7, mi.size)), 1, 5).astype(int)
    when = day - rng.integers(5, 200, assessed.size).astype("timedelta64[D]")
    return pd.DataFrame(
        {
            "customer_id": ids[mi],
            "factor": np.tile(factors, assessed.size),
            "level": level,
            "assessed_on": np.repeat(when, len(factors)),
            "assessor": np.array(assessors, dtype=object)[mi % len(assessors)],
        }
    )


def event_count(sheets: dict[str, pd.DataFrame]) -> int:
    return sum(len(sheets[k]) for k in ("Logins", "Support", "Surveys", "Contacts", "Onboarding"))
