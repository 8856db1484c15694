"""HTTP and the process: the Twilio webhooks (the fast WSGI path and the Flask views, sharing
one module of webhook functions), signature checks, the server and gunicorn worker, metrics,
logs, the ops endpoints, and a call in the terminal through the real webhooks.

May import every lower area (call, directory, config, timing, store). Nothing in ivr.call,
ivr.directory or ivr.config may import it."""
