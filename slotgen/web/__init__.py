"""The runs dashboard as a web page: rendered from the model, written or served."""
