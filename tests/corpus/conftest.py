"""The corpus holds programs and notebooks that tests run, not tests: `pytest --nbval` must not
collect Ray's notebooks as notebooks of ours (test_ray_notebooks.py runs them on each backend)."""

collect_ignore_glob = ["*.ipynb", "*.py"]
