"""mtsft: multi-task supervised fine-tuning that keeps tasks apart."""

__version__ = "0.1.0"
