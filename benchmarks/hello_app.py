"""The HTTP ceiling of benchmarks/http_load.py: Flask answering a constant JSON body, nothing else.

Served by gunicorn with the worker class, worker count and connections `jubao serve` uses.
"""
from flask import Flask, jsonify

app = Flask(__name__)


@app.post("/v1/regions/<region>/entitlements")
def hello(region: str):
    return jsonify(hello="world", region=region)
