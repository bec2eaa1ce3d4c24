"""``fonts subset``: the wall's web font cut down to the characters it can show.

fontTools is imported only here, inside the command: it is needed to cut the font, never to serve."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dashboard.cli.context import fail

app = typer.Typer(help="The wall's web font.", no_args_is_help=True)


@app.command("subset")
def subset(
    names: Annotated[Path | None, typer.Option(
        help="folder of the county's CSV/GeoJSON files whose names the wall shows (default: the demo county)")] = None,
) -> None:
    """Rebuild the wall's font subset and assets/fonts.css (after label changes)."""
    from dashboard.web import font_subset

    try:
        report = font_subset.regenerate(names or font_subset.DEMO_DATA)
    except font_subset.FontSubsetError as error:
        fail(str(error))
    sizes = ", ".join(f"{name} {size / 1024:.1f} KB" for name, size in report.files.items())
    print(f"{report.characters} characters: {sizes}; assets/fonts.css rewritten ({report.seconds:.1f} s)")
