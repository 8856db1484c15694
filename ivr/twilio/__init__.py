"""Twilio's REST API: checking the phone number's webhook configuration and setting it up.

(Not to be confused with the `twilio` library, which absolute imports still find.)
May import ivr.config; the pure areas (ivr.call, ivr.directory) must never import it."""
