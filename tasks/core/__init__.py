"""The bottom layer: records that cross a boundary, the vocabularies (statuses, kinds), the errors
and the settings. Everything else in wirecopy uses it; it uses nothing of wirecopy."""
