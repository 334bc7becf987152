"""`python -m mtsft ...` is the `mtsft` command. Importing `mtsft` (first, through `mtsft.cli`) sets the
OpenMP wait policy and thread count before any command can import torch: see `mtsft/__init__.py`."""

from mtsft.cli import app

app()
