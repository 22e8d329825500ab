from kubesandbox.serve.main import entrypoint

entrypoint()
