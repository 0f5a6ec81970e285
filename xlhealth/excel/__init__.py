"""The live-Excel side: the Refresh/Export/Import/Suggest entry points the workbook's VBA
calls (``RunPython("import xlhealth.excel; xlhealth.excel.refresh()")``), the worksheet
functions (``udfs``), the generated VBA (``vba``), the .xlsm (``build``) and ``setup``
(``xlhealth excel-setup``). The only home of xlwings and pyopenvba.
"""

from xlhealth.excel.live import (
    collect_updates,
    export_for_email,
    import_questionnaires,
    refresh,
    suggest_weights,
)

__all__ = [
    "collect_updates",
    "export_for_email",
    "import_questionnaires",
    "refresh",
    "suggest_weights",
]
