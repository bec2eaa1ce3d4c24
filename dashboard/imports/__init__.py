"""Case lists and county onboarding: read a file, check every row, write once."""
