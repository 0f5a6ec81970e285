"""What each sheet looks like: ``writer`` (labels, the SheetWriter base), ``outputs``
(Summary, Actions, Segments, History), ``checks``, ``suggestions``, ``template`` (new books:
Start, input and config sheets) and ``questionnaire``. Writes through :mod:`xlhealth.xlsx`;
imports suggest, inputs, xlsx and core, never book or a front end.
"""
