"""A small bakery: which batches go into which oven before the shift ends.

The second example domain, built step by step in docs/tutorial.md. Serve it with
``algomancy-api serve --config bakery.api:config`` from docs/tutorial/.
"""
