"""What each output and template sheet looks like: Summary, Actions, Segments, History,
Checks, Suggestions, Start and the config sheets. Writes through :mod:`xlhealth.xlsx`.
"""
