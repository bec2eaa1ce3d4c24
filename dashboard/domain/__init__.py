"""The pure heart: vocabulary, labels, rules, periods, lifecycle, alert rules, figure arithmetic, contributions, masking. Imports nothing of ours."""
