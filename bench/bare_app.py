"""The baseline for `make bench`: a bare Flask app under the same gunicorn settings as `ivr serve`.

It does the least a Twilio webhook can do: parse the posted form and answer a constant TwiML
document (about the size of the helpline's own answers). No signature check, no call flow, no
rendering. It imports nothing from `ivr` but the gunicorn worker and logger classes that the
options name (ivr/serve/gunicorn_worker.py, which imports no other part of ivr), so its start-up time
and memory are Flask's, gunicorn's and gevent's.

    python bench/bare_app.py --port 5101 --options '{"workers": 2, ...}'

`--options` takes the gunicorn options `ivr serve` uses (bench/run.py reads them from
ivr.serve.server.gunicorn_options, so both servers always run with the same settings, worker class
included).
"""
from __future__ import annotations

import argparse
import json
from typing import Any

from flask import Flask, Response, request
from gunicorn.app.base import BaseApplication

XML = "text/xml; charset=utf-8"

VOICE_TWIML = (
    '<?xml version="1.0" encoding="UTF-8"?><Response><Gather action="/menu?n=main&amp;l=de" '
    'actionOnEmptyResult="false" finishOnKey="" input="dtmf" method="POST" numDigits="1" timeout="6">'
    '<Say language="de-DE" voice="Polly.Vicki-Neural">Infotelefon bei Gewalt mit intimen Bildern: '
    'kostenlos, anonym, ohne Aufzeichnung. In akuter Gefahr: auflegen und <say-as interpret-as="digits">'
    '110</say-as> oder <say-as interpret-as="digits">112</say-as> wählen.</Say>'
    '<Say language="de-DE" voice="Polly.Vicki-Neural">Mit der 1 verbinden wir Sie mit einer '
    'unabhängigen Beratungsstelle.</Say><Say language="de-DE" voice="Polly.Vicki-Neural">Mit der 2 '
    'hören Sie Hinweise, was Sie jetzt tun können. Mit der 3 hören Sie, welche Beratungsstellen wann '
    'erreichbar sind. Mit der 0 verbinden wir Sie jederzeit sofort. Ihre Nummer wird dabei nicht '
    'weitergegeben.</Say><Say language="en-GB" voice="Polly.Amy-Neural">For English, press 4.</Say>'
    '</Gather><Redirect method="POST">/menu?n=main&amp;l=de</Redirect></Response>'
)
DIAL_TWIML = (
    '<?xml version="1.0" encoding="UTF-8"?><Response><Say language="de-DE" voice="Polly.Vicki-Neural">'
    'Wir verbinden Sie jetzt mit: HateAid – Beratung für Betroffene digitaler Gewalt. Bitte bleiben Sie '
    'dran, das kann einen Moment dauern.</Say><Dial action="/dialed?n=who&amp;l=de&amp;a=adult&amp;'
    't=hateaid" callerId="+4930123456789" method="POST" record="do-not-record" timeout="22">'
    '<Number>+493025208838</Number></Dial></Response>'
)

app = Flask("bare")


@app.route("/voice", methods=["POST"])
def voice() -> Response:
    request.form.get("To")  # parse the form, as any webhook must
    return Response(VOICE_TWIML, 200, content_type=XML)


@app.route("/menu", methods=["POST"])
def menu() -> Response:
    request.form.get("Digits")
    return Response(DIAL_TWIML, 200, content_type=XML)


@app.route("/health", methods=["GET"])
def health() -> Response:
    return Response("ok\n", 200, content_type="text/plain")


class BareServer(BaseApplication):
    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            if key in self.cfg.settings and value is not None:
                self.cfg.set(key, value)

    def load(self) -> Flask:
        return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5101)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--options", default="{}", help="gunicorn options as JSON (bind/workers are set here)")
    args = parser.parse_args()
    options = json.loads(args.options)
    options.update(bind=f"{args.host}:{args.port}", workers=args.workers)
    BareServer(options).run()


if __name__ == "__main__":
    main()
