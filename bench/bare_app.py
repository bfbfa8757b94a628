"""The baseline for benchmarks: a bare Flask app doing as little as a request can."""

from flask import Flask, redirect

app = Flask(__name__)


@app.get("/")
def index():
    return "<!doctype html><title>bare</title><p>bare</p>"


@app.post("/vote")
def vote():
    return redirect("/", 303)
