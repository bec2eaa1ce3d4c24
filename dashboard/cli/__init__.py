"""``python -m dashboard …``: every operation a county's operator runs by hand or from make."""
