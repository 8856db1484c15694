"""Reading and validating the YAML (hotlines, menus, prompts, voices.yaml) into frozen objects,
the errors that name file, key path, bad value and what was expected, and the IVR_* settings.

May import: the standard library, PyYAML, and the pure areas (ivr.call, ivr.directory) whose
objects it builds. Must never import ivr.serve, ivr.store, ivr.console or ivr.cli."""
