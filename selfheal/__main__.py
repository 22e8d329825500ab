from selfheal.cli import entrypoint

entrypoint()
