"""A bare Flask app that answers POST /v1/predict with constant JSON: the web stack's own cost.

    gunicorn -c service/gunicorn.conf.py 'bench.bare_app:create_app()'

bench/api_speed.py serves it with the service's own gunicorn settings, side by side with the
service, so the ratio of the two shows what the model adds. It reads the request body (as the
service does) and ignores it; the answer has the shape of a real one, without a state token.
"""
from flask import Flask, jsonify, request

ANSWER = {
    "predictions": [{"word": w, "probability": p} for w, p in
                    (("sky", 0.41), ("sea", 0.12), ("air", 0.08), ("morning", 0.05), ("city", 0.03))],
    "model": "bare",
}


def create_app() -> Flask:
    app = Flask(__name__)
    app.json.sort_keys = False  # as the service

    @app.post("/v1/predict")
    def predict():
        request.get_data()
        return jsonify(ANSWER)

    @app.get("/readyz")
    def readyz():
        return jsonify({"status": "ok", "model": "bare"})

    return app
