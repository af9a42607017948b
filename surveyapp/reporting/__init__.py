"""Reporting: what every output (page, PDF, CSV, JSON) says about the figures, decided once.

``certainty`` words how sure a difference is; ``formatting`` prints numbers, shares,
p-values and dates the same way in the browser and in print.
"""
