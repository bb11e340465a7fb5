"""Data helpers: train/val/test splits and the synthetic IQA dataset."""
