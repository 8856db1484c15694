"""The `ivr` command (ivr/cli/main.py). Each area registers its own subcommands
(ivr/store/cli.py, ivr/console/cli.py) and imports only the shared helpers in ivr/cli/common.py,
never ivr/cli/main.py, so no import runs back.

May import every area. Nothing may import it except the console script entry point."""
