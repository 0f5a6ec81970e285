"""Evidence per metric, fitted weights and cut points from the honest back-test
(``evidence``; ``fit``: the bounded fit, folds and cut search). Pure; imports only core.
"""
