"""What the Checks sheet says, in English and Japanese (the status, the rules, each
section's title and notes)."""

from __future__ import annotations

CHECKS_TEXT: dict[str, tuple[str, str]] = {
    "checks_title": ("Checks — read before trusting the numbers", "チェック — 数値を使う前に確認"),
    "status": ("Refresh status", "更新状況"),
    "as_of": ("Scores as of", "基準日"),
    "refreshed": ("Refreshed at", "更新日時"),
    "customers": ("Customers scored", "スコア算出顧客数"),
    "problems": ("Data problems", "データの問題"),
    "model": ("Model version", "モデルバージョン"),
    "change_vs": ("Change compared with", "前回比の比較対象"),
    "mapping_title": (
        "Pasted columns: which header fed which field",
        "貼り付けた列：どの見出しをどの項目として読んだか",
    ),
    "mapping_note": (
        "Fields are found by contract name, then the Columns sheet, then the headers of common "
        "exports. A wrong guess? Add a row to Columns (sheet, field, header).",
        "項目は規定の列名、Columnsシート、主要ツールのエクスポート見出しの順に探します。"
        "違っていれば Columns に行（sheet, field, header）を追加してください。",
    ),
    "change_first": (
        "(no earlier snapshot: first refresh)",
        "（以前のスナップショットなし: 初回）",
    ),
    "history_rule": (
        "History keeps one snapshot per as-of date; a refresh for a date already in History "
        "replaces that date's snapshot, other dates are never rewritten. Change = score now "
        "− score in the latest earlier snapshot (blank when there is none).",
        "履歴は基準日ごとに1つのスナップショットを保存します。履歴にある日付で再更新すると"
        "その日付のスナップショットだけを置き換え、他の日付は書き換えません。"
        "前回比 = 現在のスコア − それより前の最新スナップショットのスコア（なければ空欄）。",
    ),
    "history_moved": (
        "History was full (an Excel sheet holds 1,048,576 rows): the {rows:,} rows of the "
        "{n} oldest snapshot(s) ({first} to {last}) moved to {file} beside this workbook. "
        "Change, trend and the back-test read the file and the sheet together; keep the "
        "file with the workbook. It now holds {total:,} rows.",
        "履歴が満杯になりました（Excelのシートは1,048,576行まで）：最も古いスナップショット "
        "{n} 件（{first}〜{last}）の {rows:,} 行を、このブックと同じフォルダの {file} "
        "に移しました。前回比・トレンド・バックテストはファイルとシートを合わせて読みます。"
        "ファイルはブックと一緒に保管してください。ファイルには現在 {total:,} 行あります。",
    ),
    "history_archived": (
        "{total:,} History rows of older snapshots are in {file} beside this workbook (they "
        "no longer fit the sheet); Change, trend and the back-test read them too.",
        "古いスナップショットの履歴 {total:,} 行は、このブックと同じフォルダの {file} にあります"
        "（シートに収まらないため）。前回比・トレンド・バックテストはこれも読みます。",
    ),
    "problems_title": (
        "Data problems (sheet, cell, what to do)",
        "データの問題（シート・セル・対処）",
    ),
    "no_problems": ("No data problems found.", "データの問題は見つかりませんでした。"),
    "coverage_title": ("Metric coverage", "指標のカバー率"),
    "coverage_note": (
        "A metric few customers have says little; below {min:.0%} is flagged.",
        "一部の顧客しか持たない指標はあまり意味を持ちません。{min:.0%}未満に印を付けます。",
    ),
    "low": ("LOW", "低い"),
    "exemplar_title": (
        "Exemplar check: do good customers score above bad ones?",
        "模範顧客チェック：優良例は不良例より高いか？",
    ),
    "exemplar_none": (
        "No exemplars yet: mark a few customers good or bad on Customers.",
        "模範顧客が未設定です。Customersシートのexemplar列にgood/badを入力してください。",
    ),
    "exemplar_result": (
        "{ok} of {pairs} good/bad pairs in the right order.",
        "{pairs}組中{ok}組が正しい順序です。",
    ),
    "exemplar_wrong": (
        "These pairs are out of order (the good one does not score higher):",
        "次の組は順序が逆です（優良例のスコアが高くない）：",
    ),
    "backtest_title": ("Back-test against outcomes", "実績（解約・更新）による検証"),
    "backtest_none": (
        "No outcomes yet: fill outcome (renewed/churned) on Customers.",
        "実績がありません。Customersシートのoutcome列にrenewed/churnedを入力してください。",
    ),
    "backtest_honest": (
        "Honest: {n:,} customers scored {lead} days before their outcome; {churned:,} churned "
        "({rate:.0%}). AUC {auc:.3f}, 95% interval {low:.3f}–{high:.3f} (1.0 = every renewal "
        "ranked above every churn; 0.5 = a coin toss). Lowest tier churns {lift:.1f}× the "
        "average. Columns C–E.",
        "公正な検証：実績の{lead}日前の時点でスコアを算出した{n:,}社、うち解約{churned:,}社"
        "（{rate:.0%}）。AUC {auc:.3f}、95%区間 {low:.3f}〜{high:.3f}"
        "（1.0＝全ての更新を解約より上位に並べる、0.5＝偶然と同じ）。"
        "最下位ティアの解約率は平均の{lift:.1f}倍。C〜E列。",
    ),
    "backtest_honest_many": (
        "Honest: {n:,} renewal decisions of {customers:,} customers (Outcomes sheet), each "
        "scored {lead} days before it; {churned:,} churned ({rate:.0%}). AUC {auc:.3f}, 95% "
        "interval {low:.3f}–{high:.3f} (1.0 = every renewal ranked above every churn; 0.5 = a "
        "coin toss). Lowest tier churns {lift:.1f}× the average. Columns C–E count decisions.",
        "公正な検証：{customers:,}社の更新判断{n:,}件（Outcomesシート）を、それぞれ{lead}日前の"
        "時点のスコアで検証。うち解約{churned:,}件（{rate:.0%}）。AUC {auc:.3f}、95%区間 "
        "{low:.3f}〜{high:.3f}（1.0＝全ての更新を解約より上位に並べる、0.5＝偶然と同じ）。"
        "最下位ティアの解約率は平均の{lift:.1f}倍。C〜E列は判断の件数。",
    ),
    "backtest_basis": (
        "Scored as of outcome_date − {lead} days: {outcome_date:,}; from a History snapshot at "
        "least {lead} days old (no outcome_date): {history:,}; today's score (no outcome_date, "
        "no snapshot): {today:,}.",
        "outcome_date − {lead}日時点で算出：{outcome_date:,}件、outcome_dateがなく{lead}日以上前の"
        "Historyスナップショットを使用：{history:,}件、どちらもなく今日のスコアを使用：{today:,}件。",
    ),
    "backtest_today": (
        "Scored today (optimistic — today's score already sees the churn, e.g. no logins "
        "since the customer left): AUC {auc:.3f} ({low:.3f}–{high:.3f}), lowest tier "
        "{lift:.1f}× the average. "
        "Columns F–H. Trust the honest figure.",
        "今日のスコアでの検証（楽観的：解約後にログインがないなど、結果そのものを見ている）："
        "AUC {auc:.3f}（{low:.3f}〜{high:.3f}）、最下位ティアは平均の{lift:.1f}倍。F〜H列。"
        "公正な検証の値を信頼してください。",
    ),
    "backtest_fallback_today": (
        "Warning: {n:,} customers have neither an outcome_date nor an old enough History "
        "snapshot, so their honest figure uses today's score and is optimistic — fill "
        "outcome_date on Customers.",
        "注意：{n:,}社はoutcome_dateも十分古いHistoryスナップショットもないため、今日のスコアで"
        "代用しており楽観的です。Customersシートのoutcome_dateを入力してください。",
    ),
}
