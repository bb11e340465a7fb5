"""Training model classes for pyiqa's MODEL_REGISTRY."""
