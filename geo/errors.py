"""The one error a county's input files can raise, so the onboarding command can show it plainly."""


class CountyInputError(ValueError):
    """A county input file is missing or wrong; the message names the file and, where it helps,
    the line and column, in words a data clerk can act on."""
