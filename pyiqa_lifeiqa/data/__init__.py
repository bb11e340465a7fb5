"""Data helpers: train/val/test splits, the synthetic IQA dataset and reference-group training batches."""
