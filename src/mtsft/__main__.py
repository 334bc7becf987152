"""`python -m mtsft ...` is the `mtsft` command."""

from mtsft.cli import app

app()
