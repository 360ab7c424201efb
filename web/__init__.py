"""jubao's web layer: the JSON API of contract.md on top of the engine façade.

`create_app` is imported lazily so that `jubao` commands that never serve stay fast.
"""


def create_app(*args, **kwargs):
    from web.app import create_app as factory

    return factory(*args, **kwargs)
