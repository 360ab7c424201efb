"""The column back end: a population as arrays, on the same plan, mechanics and pricing as one person.

Owns: Arrow columns read into integer arrays and the batch evaluation (`columnar`).

May import: `engine.core`, `engine.language`, NumPy and pyarrow.
"""
