"""One widget per module, grouped by screen region; each keeps its CSS beside it."""
