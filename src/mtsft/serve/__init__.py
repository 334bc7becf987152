"""Meeting the model: the terminal chat (`chat`), the batching engine (`engine`), the OpenAI-compatible HTTP
API with its web page (`api`, `static/`). All of them generate through `mtsft.eval.generate`, with the
run's task-tag mode applied as in training and eval (`session`)."""
