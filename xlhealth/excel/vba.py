"""VBA source for the macro-enabled workbook, generated offline.

* the UDF wrappers exactly as xlwings' "Import Functions" writes them
  (``xlwings.udfs.generate_vba_wrapper``): a module named ``xlwings_udfs``
  (the one module Import Functions replaces), four-space indents, CRLF line
  ends, and the ``CommandBars`` guard xlwings writes for ``call_in_wizard=False``
  (the Insert Function dialog does not run a function at each keystroke);
* the macros module: Refresh, Export for email, Import questionnaires, Suggest weights (RunPython
  into ``xlhealth.excel``), the ribbon callbacks and ``RegisterFunctionHelp``,
  which registers each function's description and argument help with
  ``Application.MacroOptions`` (category "xlhealth", English or Japanese by
  Office's UI language), as Import Functions does; ``ThisWorkbook``'s
  ``Workbook_Open`` runs it;
* the ribbon (customUI) whose buttons call those callbacks.

Every generated line is ASCII (VBA source is stored in the project's ANSI code
page, so ``×`` would read as ``ﾗ`` on Japanese Windows): Japanese help text is
written as hex code points and decoded by ``HSText`` at run time.

The standalone xlwings module itself is taken verbatim from the xlwings
package this project pins (``quickstart_standalone.xlsm``), so the VBA and the
Python side always agree on the version.
"""

from __future__ import annotations

import os
from xml.sax.saxutils import quoteattr

from xlhealth.excel.udfs import MODULE, REGISTRY, UdfSpec

UDF_MODULE = "xlwings_udfs"  # xlwings' Import Functions removes (only) this module
MACRO_MODULE = "xlhealth_macros"
CATEGORY = "xlhealth"
CRLF = "\r\n"
MACROS = {
    "Refresh": ("xlhealth.excel", "refresh"),
    "ExportForEmail": ("xlhealth.excel", "export_for_email"),
    "ImportQuestionnaires": ("xlhealth.excel", "import_questionnaires"),
    "SuggestWeights": ("xlhealth.excel", "suggest_weights"),
    "CollectUpdates": ("xlhealth.excel", "collect_updates"),
}
RIBBON_BUTTONS = [
    ("hsRefresh", "Refresh", "更新", "RibbonRefresh", "Refresh", "RefreshAll"),
    (
        "hsExport",
        "Export for email",
        "メール用に書き出し",
        "RibbonExportForEmail",
        "ExportForEmail",
        "FileSendAsAttachment",
    ),
    (
        "hsImport",
        "Import questionnaires",
        "アンケート取り込み",
        "RibbonImportQuestionnaires",
        "ImportQuestionnaires",
        "ImportExcel",
    ),
    (
        "hsSuggest",
        "Suggest weights",
        "重みの提案",
        "RibbonSuggestWeights",
        "SuggestWeights",
        "ChartTrendline",
    ),
    (
        "hsCollect",
        "Collect updates",
        "更新内容の回収",
        "RibbonCollectUpdates",
        "CollectUpdates",
        "Paste",
    ),
]

# Insert Function help (Application.MacroOptions): English and Japanese, <= 255 characters each.
FUNCTION_HELP_JA = {
    "HS_POINTS": "指標1つの各値の得点（Rulesシートの区分による）。",
    "HS_SCORE": "指標値の各行のヘルススコア 0〜100（更新と同じ計算）。",
    "HS_GROUPS": "各行のDEARグループ得点（導入・利用・定着・ROI）：4列。",
    "HS_REASONS": "理由：最も多く失点した区分から順に。",
    "HS_TIER": "各スコアのティア番号（1〜5、Tiers表による）。",
    "HS_TIER_LABEL": "各スコアのティア名（英語または日本語、language en/ja）。",
    "HS_CMI": "要因レベルの各行の顧客成熟度指数 CMI（1.0〜5.0）。",
    "HS_MATURITY_LEVEL": "各行の成熟度レベル 1〜5（CMIを四捨五入）。",
    "HS_QUADRANT": "各（スコア, CMI）のヘルス×成熟度の象限（Matrix表による）。",
    "HS_DECISION": "各（スコア, CMI）のマトリクス上の判断。",
}
ARGUMENT_HELP = {
    "metric": (
        "The metric name, as on Metrics (e.g. nps_latest).",
        "指標名（Metricsシートのとおり、例 nps_latest）。",
    ),
    "metric_names": (
        "The metric names: one header row, e.g. Calculator!A5:L5.",
        "指標名の見出し行（例 Calculator!A5:L5）。",
    ),
    "values": (
        "The values: one row per customer, columns in the order of the names.",
        "値：顧客ごとに1行、列は指標名の順。",
    ),
    "metrics": ("The Metrics table: HS_METRICS.", "Metrics表：HS_METRICS。"),
    "rules": ("The Rules table: HS_RULES.", "Rules表：HS_RULES。"),
    "settings": ("Optional: the Settings table, HS_SETTINGS.", "省略可：Settings表 HS_SETTINGS。"),
    "scores": (
        "Health scores 0-100: one cell or a column.",
        "ヘルススコア 0〜100：1セルまたは1列。",
    ),
    "tiers": ("The Tiers table: HS_TIERS.", "Tiers表：HS_TIERS。"),
    "language": ('Optional: "en" (default) or "ja".', '省略可："en"（既定）または "ja"。'),
    "previous": (
        "Optional: each score's previous tier (the last snapshot's), one per score.",
        "省略可：各スコアの前回のティア（直前のスナップショット）。スコアと同じ数。",
    ),
    "hysteresis": (
        "Optional: points a score must pass a tier boundary by to change tier (Settings "
        "tier_hysteresis).",
        "省略可：ティアが変わるのに境界を越えるべきポイント数（Settings の tier_hysteresis）。",
    ),
    "factor_names": (
        "The maturity factor names: one header row.",
        "成熟度要因名の見出し行。",
    ),
    "levels": (
        "The factor levels 1-5: one row per customer.",
        "要因レベル 1〜5：顧客ごとに1行。",
    ),
    "maturity_model": (
        "The MaturityModel table: HS_MATURITY_MODEL.",
        "MaturityModel表：HS_MATURITY_MODEL。",
    ),
    "cmis": (
        "Customer Maturity Index 1.0-5.0: one cell or a column.",
        "顧客成熟度指数 1.0〜5.0：1セルまたは1列。",
    ),
    "matrix": ("The Matrix table: HS_MATRIX.", "Matrix表：HS_MATRIX。"),
}


def standalone_xlwings_modules() -> dict[str, str]:
    """The ``xlwings`` standard module and ``Dictionary`` class of the pinned xlwings."""
    import xlwings
    from pyopenvba import ExcelFile

    path = os.path.join(os.path.dirname(xlwings.__file__), "quickstart_standalone.xlsm")
    with ExcelFile(path) as book:
        return {"xlwings": book.get_module("xlwings"), "Dictionary": book.get_module("Dictionary")}


def ascii_text(text: str) -> str:
    """English help text as ASCII (the few typographic characters spelled out)."""
    for fancy, plain in {"×": "x", "–": "-", "—": "-", "‘": "'", "’": "'", "…": "..."}.items():
        text = text.replace(fancy, plain)
    text.encode("ascii")  # anything else is a bug in the help text: fail the build
    return text


def _wrapper(spec: UdfSpec) -> list[str]:
    """One function, line for line what ``generate_vba_wrapper`` writes (xlwings 0.37.8)."""
    args = [f"Optional {a}" if a in spec.optional else a for a in spec.args]
    array = f"Array({', '.join(spec.args)})"
    name = spec.name
    return [
        f"Function {name}({', '.join(args)})",
        '    If (Not Application.CommandBars("Standard").Controls(1).Enabled) Then Exit Function',
        '    #If App = "Microsoft Excel" Then',
        "        If TypeOf Application.Caller Is Range Then On Error GoTo failed",
        f'        {name} = XLPy.CallUDF("{MODULE}", "{name}", {array}, ThisWorkbook, '
        "Application.Caller)",
        "        Exit Function",
        "    #Else",
        f'        {name} = XLPy.CallUDF("{MODULE}", "{name}", {array})',
        "        Exit Function",
        "    #End If",
        "failed:",
        f"    {name} = Err.Description",
        "End Function",
        "",
    ]


def udf_wrappers() -> str:
    """The function bodies alone, LF line ends: compared with xlwings' own generator in tests."""
    return "".join(line + "\n" for spec in REGISTRY for line in _wrapper(spec))


def udf_module() -> str:
    """What "Import Functions" writes for ``xlhealth.excel.udfs``, generated without Excel."""
    lines = [
        f'Attribute VB_Name = "{UDF_MODULE}"',
        "'Autogenerated code by xlwings - changes will be lost with next import!",
        '#Const App = "Microsoft Excel" \'Adjust when using outside of Excel',
    ]
    lines += [line for spec in REGISTRY for line in _wrapper(spec)]
    return CRLF.join(lines) + CRLF


def _hex(text: str) -> str:
    return "".join(f"{ord(c):04X}" for c in text)


def _vba_string(text: str) -> str:
    return '"' + ascii_text(text).replace('"', '""') + '"'


def function_help_vba() -> list[str]:
    """``RegisterFunctionHelp``: MacroOptions for every UDF, as Import Functions calls it."""
    lines = [
        "Sub RegisterFunctionHelp()",
        "    ' Insert Function help for the worksheet functions (what Import Functions registers).",
        "    ' Windows only: Mac Excel has no xlwings UDFs. Runs from Workbook_Open.",
        "    #If Mac Then",
        "    #Else",
        "    Dim ja As Boolean, wasSaved As Boolean, args() As String",
        "    On Error Resume Next",
        "    wasSaved = ThisWorkbook.Saved",
        "    ja = (Application.LanguageSettings.LanguageID(2) = 1041) ' msoLanguageIDUI: Japanese",
    ]
    for spec in REGISTRY:
        lines.append(f"    ReDim args(0 To {len(spec.args) - 1})")
        for i, arg in enumerate(spec.args):
            en, ja = ARGUMENT_HELP[arg]
            lines.append(
                f'    If ja Then args({i}) = HSText("{_hex(ja)}") '
                f"Else args({i}) = {_vba_string(en)}"
            )
        ja_text = FUNCTION_HELP_JA[spec.name]
        lines += [
            f'    HSRegister "{spec.name}", {_vba_string(spec.description)}, '
            f'HSText("{_hex(ja_text)}"), ja, args',
        ]
    lines += [
        "    ThisWorkbook.Saved = wasSaved  ' registering help is not an edit",
        "    #End If",
        "End Sub",
        "",
        "Private Sub HSRegister(fn As String, en As String, jaText As String, ja As Boolean, "
        "args() As String)",
        "    Dim description As String",
        "    If ja Then description = jaText Else description = en",
        "    On Error Resume Next",
        "    ' a book name with an apostrophe (Bob's HealthScore.xlsm) has it doubled",
        '    Application.MacroOptions Macro:="\'" & Replace(ThisWorkbook.Name, "\'", "\'\'") & '
        '"\'!" & fn, '
        f'Description:=description, Category:="{CATEGORY}", ArgumentDescriptions:=args',
        "End Sub",
        "",
        "Private Function HSText(codes As String) As String",
        "    ' Text written as 4-digit hex code points, so the VBA source stays ASCII.",
        "    Dim i As Long",
        "    For i = 1 To Len(codes) Step 4",
        '        HSText = HSText & ChrW(CLng("&H" & Mid$(codes, i, 4)))',
        "    Next i",
        "End Function",
        "",
    ]
    return lines


def macro_module() -> str:
    lines = [
        f'Attribute VB_Name = "{MACRO_MODULE}"',
        "'Buttons and the ribbon call these; the work happens in Python (xlhealth.excel).",
        "Option Explicit",
        "",
    ]
    for sub, (module, function) in MACROS.items():
        lines += [
            f"Sub {sub}()",
            f'    HSRun "import {module}; {module}.{function}()"',
            "End Sub",
            "",
        ]
    lines += [
        "Private Sub HSRun(code As String)",
        "    ' Excel's settings as they were before the run, whatever Python did: on Windows",
        "    ' RunPython returns when Python has finished (on a Mac at once, and Python gives",
        "    ' them back itself). The status line clears itself after 20 seconds.",
        "    Dim calc As Long, updating As Boolean, events As Boolean, alerts As Boolean",
        "    calc = Application.Calculation",
        "    updating = Application.ScreenUpdating",
        "    events = Application.EnableEvents",
        "    alerts = Application.DisplayAlerts",
        "    RunPython code",
        "    #If Not Mac Then",
        "    On Error Resume Next",
        "    If Application.Calculation <> calc Then Application.Calculation = calc",
        "    If Application.ScreenUpdating <> updating Then Application.ScreenUpdating = updating",
        "    If Application.EnableEvents <> events Then Application.EnableEvents = events",
        "    If Application.DisplayAlerts <> alerts Then Application.DisplayAlerts = alerts",
        '    Application.OnTime Now + TimeSerial(0, 0, 20), "\'" & '
        'Replace(ThisWorkbook.Name, "\'", "\'\'") & "\'!HSClearStatus"',
        "    #End If",
        "End Sub",
        "",
        "Sub HSClearStatus()",
        "    Application.StatusBar = False",
        "End Sub",
        "",
    ]
    for _, _, _, callback, sub, _ in RIBBON_BUTTONS:
        lines += [f"Sub {callback}(control As IRibbonControl)", f"    {sub}", "End Sub", ""]
    lines += function_help_vba()
    return CRLF.join(lines)


def workbook_module_code() -> str:
    """The body of ``ThisWorkbook``: register the function help when the book opens."""
    lines = [
        "Option Explicit",
        "",
        "Private Sub Workbook_Open()",
        f"    {MACRO_MODULE}.RegisterFunctionHelp",
        "End Sub",
        "",
    ]
    return CRLF.join(lines)


def ribbon_xml(lang: str = "en") -> str:
    buttons = "".join(
        f'<button id="{bid}" label={quoteattr(ja if lang == "ja" else en)} size="large" '
        f'onAction="{callback}" imageMso="{image}"/>'
        for bid, en, ja, callback, _, image in RIBBON_BUTTONS
    )
    label = "ヘルススコア" if lang == "ja" else "Health Score"
    return (
        '<customUI xmlns="http://schemas.microsoft.com/office/2009/07/customui">'
        f'<ribbon><tabs><tab id="xlhealthTab" label={quoteattr(label)}>'
        f'<group id="xlhealthGroup" label={quoteattr(label)}>{buttons}</group>'
        "</tab></tabs></ribbon></customUI>"
    )
