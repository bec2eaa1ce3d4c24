"""Early warning by baseline: the job that finds improbable counts, and what screens read of it (DESIGN.md "Early warning")."""
