"""The Suggestions sheet's words, in English and Japanese: titles, notes, column labels and
how a band is written ("< 3", "3〜7") — kept apart from the layout in ``suggestions``.
"""

from __future__ import annotations

TEXT: dict[str, tuple[str, str]] = {
    "title": (
        "Suggestions — weights and cut points from the honest back-test",
        "改善提案 — 実績前のスコアによる検証にもとづく重みと区分",
    ),
    "intro": (
        "Nothing here changes the model. Every figure comes from customers with an outcome, "
        "scored as of outcome_date − {lead} days: what the score said before the outcome.",
        "このシートはモデルを変更しません。数値はすべて、実績（解約・更新）のある顧客を "
        "outcome_date の{lead}日前の時点でスコア化したもの（実績が出る前にスコアが示していた内容）"
        "にもとづきます。",
    ),
    "made": ("Suggested on", "作成日時"),
    "based": ("Outcomes back-tested", "検証した結果の件数"),
    "based_value": (
        "{n:,} (scored {lead} days before their outcome_date)",
        "{n:,} 社（outcome_date の{lead}日前の時点でスコア化）",
    ),
    "grouped": ("Folds split by", "分割の単位"),
    "grouped_value": (
        "customer: {n:,} outcomes of {k:,} customers; a customer's outcomes are always on "
        "the same side of a fold, so no fold is tested on a customer it learnt from",
        "顧客：{k:,}社の結果{n:,}件。同じ顧客の結果は常に同じ側に入り、学習に使った顧客で"
        "検証することはありません",
    ),
    "split": ("Churned / renewed", "解約 / 更新"),
    "split_value": ("{c:,} / {r:,}", "{c:,} 社 / {r:,} 社"),
    "others": ("Not used here", "ここで使わない顧客"),
    "others_value": (
        "{h:,} with only a History snapshot, {t:,} with only today's score "
        "(no outcome_date: they cannot be scored before the outcome)",
        "履歴スナップショットのみ {h:,} 社、今日のスコアのみ {t:,} 社"
        "（outcome_date がないため実績前の時点でスコア化できません）",
    ),
    "minimum": ("Needed to fit", "提案に必要な件数"),
    "minimum_value": (
        "{m:,} churned and {m:,} renewed (Settings suggest_min_outcomes)",
        "解約 {m:,} 社と更新 {m:,} 社（Settings の suggest_min_outcomes）",
    ),
    "cv": ("Cross-validation", "交差検証"),
    "cv_value": (
        "{k} folds × {r} repeats, stratified: weights fitted on {k1} of {k} parts of the "
        "customers, AUC measured on the part left out",
        "層化 {k} 分割 × {r} 回：顧客の {k1}/{k} で重みを推定し、残りの顧客で AUC を測定",
    ),
    "auc_all": ("AUC today, everyone", "現在の AUC（全員）"),
    "none": (
        "No customer has an outcome with an outcome_date yet: fill outcome (renewed/churned) "
        "and outcome_date on Customers, then run xlhealth suggest again.",
        "outcome_date 付きの実績がある顧客がまだいません。Customers シートの outcome"
        "（renewed/churned）と outcome_date を入力してから、もう一度 xlhealth suggest を"
        "実行してください。",
    ),
    "refusal": (
        "Not enough outcomes to suggest weights: {c:,} churned and {r:,} renewed customers "
        "have an outcome_date, and at least {m:,} of each are needed. Nothing was fitted; "
        "below is the evidence per metric only — a description, not a recommendation.",
        "重みを提案するには実績が足りません：outcome_date のある顧客は解約 {c:,} 社・更新 "
        "{r:,} 社で、それぞれ {m:,} 社以上必要です。推定は行っていません。以下は指標ごとの"
        "実績の記述であり、推奨ではありません。",
    ),
    "headline": (
        "AUC on held-out customers (mean of {n} folds, lowest–highest): today's weights "
        "{t:.3f} ({t0:.3f}–{t1:.3f}); suggested weights {s:.3f} ({s0:.3f}–{s1:.3f}).",
        "検証用に除いた顧客での AUC（{n} 回の平均、最低〜最高）：現在の重み {t:.3f}"
        "（{t0:.3f}〜{t1:.3f}）、提案の重み {s:.3f}（{s0:.3f}〜{s1:.3f}）。",
    ),
    "gain": (
        "Gain {g:+.3f} (sd {sd:.3f}, from {g0:+.3f} to {g1:+.3f}); the suggested weights did "
        "better in {better} of {n} folds.",
        "改善幅 {g:+.3f}（標準偏差 {sd:.3f}、{g0:+.3f}〜{g1:+.3f}）。提案の重みが上回ったのは "
        "{n} 回中 {better} 回。",
    ),
    "reliable": (
        "The gain is larger than its spread: on customers the fit never saw, the suggested "
        "weights ranked churners lower more often. Expect about this much — not a certainty.",
        "改善幅はばらつきより大きく、推定に使っていない顧客で提案の重みの方が解約顧客を低く"
        "評価できました。期待できるのはこの程度で、確実ではありません。",
    ),
    "unreliable": (
        "No reliable gain: the gain is within its spread across folds. Today's weights are "
        "as good as the suggested ones on this data.",
        "確かな改善はありません：改善幅は分割ごとのばらつきの範囲内です。このデータでは"
        "現在の重みで提案と同程度です。",
    ),
    "worse": (
        "The suggested weights did worse on held-out customers: keep today's weights.",
        "提案の重みは検証用の顧客で現在より悪い結果でした。現在の重みを維持してください。",
    ),
    "apply": (
        'To use the suggested weights: xlhealth suggest "{book}" --apply (writes only the '
        "weight cells of Metrics and keeps {book}.bak); then refresh.",
        '提案の重みを使うには：xlhealth suggest "{book}" --apply（Metrics の weight セル'
        "だけを書き換え、{book}.bak を残します）。その後に更新してください。",
    ),
    "applied": (
        "Applied on {when}: the suggested weights were written into the weight cells of "
        "Metrics; the previous file is {book}.bak. Refresh to score with them.",
        "{when} に適用済み：提案の重みを Metrics の weight セルに書き込みました。以前のファイルは "
        "{book}.bak です。新しい重みでスコアを出すには更新してください。",
    ),
    "nothing": (
        "No metric has data for the customers with an outcome: nothing to fit.",
        "実績のある顧客について値のある指標がないため、推定できません。",
    ),
    "metrics_title": ("Per metric: evidence and weights", "指標ごと：実績と重み"),
    "metrics_note": (
        "Metric AUC: the metric's points alone against churn (1 = every renewal above every "
        "churn, 0.5 = a coin toss, below 0.5 = backwards), with its 95% interval (DeLong): "
        "the fewer the churners, the wider it is. Weight 0 = leave the metric out.",
        "指標の AUC：その指標の点数だけで解約を見分けられるか（1＝更新がすべて解約より上、"
        "0.5＝偶然と同じ、0.5未満＝逆向き）と95%区間（DeLong法；解約が少ないほど広い）。"
        "重み 0 ＝ スコアから外す提案です。",
    ),
    "folds_title": ("AUC per held-out fold", "検証用の分割ごとの AUC"),
    "folds_note": (
        "Each row: weights fitted on the other customers, AUC measured on these.",
        "各行：他の顧客で重みを推定し、この顧客たちで AUC を測定。",
    ),
    "chart": ("AUC on held-out customers: today vs suggested", "検証用顧客での AUC：現在と提案"),
    "chart_axis": ("AUC (0.5 = coin toss)", "AUC（0.5＝偶然と同じ）"),
    "series_today": ("Today's weights", "現在の重み"),
    "series_new": ("Suggested weights", "提案の重み"),
    "cuts_title": (
        "Suggested cut points for numeric metrics (at most four bands)",
        "数値指標の区分の提案（最大4区分）",
    ),
    "cuts_note": (
        "Bands found on every customer with an outcome, points as the churn rates say "
        "(monotone). Effect: the model's AUC with only this metric re-banded, today's weights, "
        "cross-validated (bands found on the training customers only).",
        "区分は実績のある全顧客から求め、点数は解約率の順（単調）に付けています。効果：この指標"
        "だけ区分を変えたときのモデルの AUC の変化（現在の重み、区分は推定用の顧客だけで求めた"
        "交差検証）。",
    ),
    "cuts_none": (
        "No numeric metric splits churners from renewals clearly enough for new bands "
        "(each band needs 5% of the customers and at least 10).",
        "新しい区分を提案できるほど解約と更新をはっきり分ける数値指標はありません"
        "（各区分に顧客の5%以上かつ10社以上が必要）。",
    ),
    "cuts_detail": ("Suggested bands", "提案する区分"),
    "cuts_detail_note": (
        "A band a–b holds values from a up to, not including, b (as min and max on Rules).",
        "区分 a〜b は a 以上 b 未満の値（Rules の min と max と同じ）。",
    ),
    "bands_title": ("Churn per band (today's Rules)", "区分ごとの解約率（現在の Rules）"),
    "bands_note": (
        "A band a–b holds values from a up to, not including, b (min and max on Rules); "
        "'(no value)': customers without a value, scored as when_missing says.",
        "区分 a〜b は a 以上 b 未満の値（Rules の min と max）。「（値なし）」：値のない顧客"
        "（when_missing の設定どおりに扱われます）。",
    ),
    "better": ("gain > spread", "改善あり"),
    "not_better": ("no reliable gain", "確かな改善なし"),
    "raise": ("raise", "上げる"),
    "lower": ("lower", "下げる"),
    "keep": ("keep", "そのまま"),
    "leave_out": ("leave out (weight 0)", "外す（重み 0）"),
    "ok": ("OK", "OK"),
    "no_data": (
        "no data: no customer with an outcome has a value",
        "データなし：実績のある顧客に値がありません",
    ),
    "one_band": (
        "does not separate churners: everyone gets the same points (weight left as it is)",
        "解約を見分けない：全員が同じ点数（重みはそのまま）",
    ),
    "against": (
        "runs against outcomes: more points, more churn (its 95% interval is below 0.5, or "
        "re-banding reverses its points)",
        "実績と逆：点数が高いほど解約が多い（95%区間が0.5未満、または区分の見直しで点数が逆転）",
    ),
    "no_separation": (
        "no clear evidence it separates churners: its 95% interval includes 0.5",
        "解約を見分ける明確な根拠なし：95%区間が0.5を含む",
    ),
}

LABELS: dict[str, tuple[str, str]] = {
    "metric": ("Metric", "指標"),
    "group": ("Group", "グループ"),
    "description": ("What it measures", "内容"),
    "customers_with_value": ("Customers with a value", "値のある顧客数"),
    "coverage": ("Coverage", "カバー率"),
    "weight_today": ("Weight today", "現在の重み"),
    "weight_suggested": ("Suggested weight", "提案の重み"),
    "change": ("Suggestion", "提案"),
    "metric_auc": ("Metric AUC", "指標の AUC"),
    "auc_interval": ("95% interval", "95%区間"),
    "flag": ("Check", "判定"),
    "band": ("Band", "区分"),
    "label": ("Label", "ラベル"),
    "points": ("Points", "点数"),
    "customers": ("Customers", "顧客数"),
    "churned": ("Churned", "解約数"),
    "churn_rate": ("Churn rate", "解約率"),
    "repeat": ("Repeat", "反復"),
    "fold": ("Fold", "分割"),
    "fold_name": ("Fold", "分割"),
    "auc_today": ("AUC today", "AUC（現在）"),
    "auc_suggested": ("AUC suggested", "AUC（提案）"),
    "gain": ("Gain", "改善幅"),
    "bands": ("Suggested bands", "提案する区分"),
    "points_text": ("Points", "点数"),
    "gain_mean": ("AUC effect (mean)", "AUC への効果（平均）"),
    "gain_sd": ("Spread (sd)", "ばらつき（標準偏差）"),
    "gain_min": ("Lowest", "最低"),
    "gain_max": ("Highest", "最高"),
    "folds_found": ("Folds with a split", "区分が見つかった回数"),
    "bands_today": ("Bands today", "現在の区分数"),
    "verdict": ("Verdict", "判定"),
}


def text(key: str, lang: str, **values: object) -> str:
    en, ja = TEXT[key]
    return (ja if lang == "ja" else en).format(**values)


def label(key: str, lang: str) -> str:
    en, ja = LABELS.get(key, (key, key))
    return ja if lang == "ja" else en


def range_text(lo: float | None, hi: float | None, lang: str) -> str:
    """A band [lo, hi) in few characters: "< 3", "3–7", "≥ 7" (ja: 3未満, 3〜7, 7以上)."""
    if lo is None and hi is None:
        return "すべて" if lang == "ja" else "all"
    if lo is None:
        return f"{hi:g}未満" if lang == "ja" else f"< {hi:g}"
    if hi is None:
        return f"{lo:g}以上" if lang == "ja" else f"≥ {lo:g}"
    return f"{lo:g}〜{hi:g}" if lang == "ja" else f"{lo:g}–{hi:g}"
