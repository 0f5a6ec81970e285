"""What each input column of a new book holds: its kind (formatting), its data validation
rule and its hint, per input sheet — the knowledge behind the template's input sheets.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Field:
    """An input column: kind for formatting, a validation rule and a hint."""

    key: str
    kind: str = "text"  # text | number | int | date
    width: float = 14
    rule: tuple = ()  # (type, formula1, formula2, operator)
    hint: tuple[str, str] = ("", "")
    choices: str = ""  # "tiers": a drop-down of the tiers that still accepts other text


DATE = ("date", "DATE(2000,1,1)", "DATE(2100,12,31)", "between")
WHOLE_0 = ("whole", "0", "100000000", "between")
INPUT_FIELDS: dict[str, list[Field]] = {
    "Customers": [
        Field(
            "customer_id",
            width=14,
            hint=("Unique customer ID from your CRM (required).", "CRMの一意の顧客ID（必須）。"),
        ),
        Field("customer_name", width=28),
        Field(
            "segment",
            width=14,
            hint=(
                "Segment for benchmarks, e.g. Enterprise / SMB.",
                "ベンチマーク用のセグメント（例：エンタープライズ／SMB）。",
            ),
        ),
        Field("owner", width=16, hint=("CSM who owns the account.", "担当CSM。")),
        Field("owner_email", width=24),
        Field(
            "arr",
            "number",
            12,
            ("decimal", "0", "1E+15", "between"),
            ("Annual recurring revenue.", "年間経常収益。"),
        ),
        Field("seats", "int", 8, WHOLE_0, ("Contracted seats (licences).", "契約シート数。")),
        Field("renewal_date", "date", 12, DATE, ("Next renewal date.", "次回更新日。")),
        Field("stage", width=12),
        Field(
            "email_domain",
            width=20,
            hint=(
                "Domain used to match emails, e.g. example.com.",
                "メールで照合するドメイン（例：example.co.jp）。",
            ),
        ),
        Field(
            "exemplar",
            width=10,
            rule=("list", '"good,bad"', None, None),
            hint=(
                "good / bad: customers you know are healthy or not (checks the score).",
                "good / bad：健全／不健全と分かっている顧客（スコアの検証用）。",
            ),
        ),
        Field(
            "outcome",
            width=10,
            rule=("list", '"renewed,churned"', None, None),
            hint=(
                "renewed / churned once known (back-test).",
                "判明したら renewed / churned（実績検証用）。",
            ),
        ),
        Field(
            "outcome_date",
            "date",
            12,
            DATE,
            (
                "When the outcome was decided (the renewal or churn date): the honest "
                "back-test scores each customer as it stood before this date. Without it the "
                "back-test uses today's score, which flatters the model.",
                "結果が決まった日（更新日・解約日）。公正なバックテストはこの日より前の"
                "時点のスコアで検証します。空欄だと現在のスコアで代用し、楽観的になります。",
            ),
        ),
    ],
    "Usage": [
        Field("customer_id"),
        Field(
            "key_features_used",
            "int",
            18,
            WHOLE_0,
            ("Key features in regular use.", "定常的に使われている重要機能の数。"),
        ),
        Field(
            "value_realised",
            "number",
            16,
            ("decimal", "0", "1", "between"),
            ("Share of agreed success goals met, 0–1.", "合意した成功目標の達成割合（0〜1）。"),
        ),
    ],
    "Logins": [
        Field(
            "customer_id",
            hint=("Customer ID, or leave blank and give email.", "顧客ID。空欄ならemailで照合。"),
        ),
        Field("email", width=26),
        Field("user_id", width=14),
        Field("date", "date", 12, DATE, ("Login date.", "ログイン日。")),
    ],
    "Support": [
        Field("customer_id"),
        Field("email", width=26),
        Field("opened", "date", 12, DATE, ("Date the ticket was opened.", "起票日。")),
        Field(
            "category",
            width=14,
            hint=("'complaint' counts as a complaint.", "complaint はクレームとして数えます。"),
        ),
        Field("severity", width=10),
    ],
    "Surveys": [
        Field("customer_id"),
        Field("email", width=26),
        Field("date", "date", 12, DATE, ("Survey answer date.", "回答日。")),
        Field(
            "nps",
            "int",
            8,
            ("whole", "0", "10", "between"),
            ("NPS answer, 0–10.", "NPSの回答（0〜10）。"),
        ),
    ],
    "Contacts": [
        Field("customer_id"),
        Field(
            "date", "date", 12, DATE, ("Date of the meeting or call.", "打ち合わせ・電話の日付。")
        ),
        Field(
            "kind",
            width=12,
            hint=("call, meeting, qbr, ebr, email …", "call, meeting, qbr, ebr, email など。"),
        ),
        Field(
            "role",
            width=12,
            hint=("executive for contacts with an executive.", "役員との接点は executive。"),
        ),
    ],
    "Onboarding": [
        Field("customer_id"),
        Field("step", width=18),
        Field(
            "standard_days",
            "int",
            14,
            WHOLE_0,
            ("Standard duration of the step in days.", "手順の標準日数。"),
        ),
        Field("started", "date", 12, DATE),
        Field(
            "completed", "date", 12, DATE, ("Blank while the step is open.", "未完了の間は空欄。")
        ),
    ],
    "Maturity": [
        Field("customer_id"),
        Field("factor", width=22),
        Field(
            "level",
            "int",
            8,
            ("whole", "1", "5", "between"),
            ("Maturity level 1–5.", "成熟度レベル（1〜5）。"),
        ),
        Field("assessed_on", "date", 12, DATE),
        Field("assessor", width=16),
    ],
    "Overrides": [
        Field(
            "customer_id",
            hint=(
                "Customer whose computed score you overrule.",
                "算出スコアを上書きする顧客のID。",
            ),
        ),
        Field(
            "score",
            "number",
            9,
            ("decimal", "0", "100", "between"),
            (
                "Your score 0–100, or leave blank and give a tier.",
                "判断したスコア（0〜100）。空欄にして tier でも可。",
            ),
        ),
        Field(
            "tier",
            width=14,
            hint=(
                "Your tier: pick one, or type its number or name; or give a score instead.",
                "判断したティア：一覧から選ぶか番号・名前を入力。score でも可。",
            ),
            choices="tiers",
        ),
        Field(
            "reason",
            width=48,
            hint=("Why: shown on Summary beside the score.", "理由：Summaryのスコアの横に表示。"),
        ),
        Field("by", width=16, hint=("Who decided.", "判断した人。")),
        Field(
            "until",
            "date",
            12,
            DATE,
            (
                "Expiry date (required): after it the override is ignored and listed on Checks.",
                "期限（必須）：過ぎると上書きは無視され、Checksに表示されます。",
            ),
        ),
    ],
    "Outcomes": [
        Field(
            "customer_id",
            hint=(
                "One row per renewal decision: a customer renewing every month or year has a "
                "row each time.",
                "更新の判断ごとに1行：毎月・毎年更新する顧客はその都度1行。",
            ),
        ),
        Field(
            "outcome",
            width=10,
            rule=("list", '"renewed,churned"', None, None),
            hint=(
                "renewed / churned (also 更新 / 解約, or Salesforce Closed Won / Closed Lost).",
                "renewed / churned（更新 / 解約、Salesforce の 成立 / 不成立 も可）。",
            ),
        ),
        Field(
            "outcome_date",
            "date",
            14,
            DATE,
            (
                "The day it was decided: each row is scored as the customer stood "
                "backtest_lead_days before it.",
                "判断日：各行は backtest_lead_days 日前の時点のスコアで検証されます。",
            ),
        ),
    ],
}
