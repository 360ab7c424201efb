"""`jubao serve`: the API on gunicorn (gthread workers), registered as a plugin command of the engine CLI."""
from __future__ import annotations

import multiprocessing

import click


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, type=int, show_default=True)
@click.option("--workers", default=None, type=int, help="processes (default: one per core)")
@click.option("--threads", default=4, type=int, show_default=True, help="threads per process")
def serve(host: str, port: int, workers: int | None, threads: int) -> None:
    """Run the API with embedded defaults (policies/, SQLite in ./data; JUBAO_DATA_DIR moves it)."""
    from gunicorn.app.base import BaseApplication

    from web import create_app

    class Server(BaseApplication):
        def load_config(self):
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers or multiprocessing.cpu_count())
            self.cfg.set("worker_class", "gthread")
            self.cfg.set("threads", threads)
            self.cfg.set("preload_app", True)  # check the policies and create the database once
            self.cfg.set("accesslog", None)    # the app writes structured access logs itself

        def load(self):
            return app

    app = create_app()
    click.echo(f"jubao serving on http://{host}:{port}/  (data: {app.config['JUBAO_SETTINGS'].database_url})")
    Server().run()
