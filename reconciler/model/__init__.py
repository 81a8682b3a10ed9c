"""The model: every field and rule (the catalogue), canonical forms, desired series, settings."""
