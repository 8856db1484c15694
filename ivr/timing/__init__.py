"""The caller's time in spoken seconds: espeak-ng when installed, a calibrated estimate
otherwise, and the caller-time goals (`ivr caller-time`, `ivr check` warnings).

May import the pure areas (ivr.call, ivr.directory) and ivr.config, whose prompts it times.
Nothing in ivr.call, ivr.directory or ivr.config may import it."""
