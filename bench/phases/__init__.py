"""The measures of `make bench`, one module each; bench/main.py runs them in order.

Each has ``async def run(ctx)`` (``ctx``: bench.main.Context) and, when it prints a part of
the final table, ``lines(results)``."""
