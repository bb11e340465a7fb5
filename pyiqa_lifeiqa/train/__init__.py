"""Training Life-IQA with pyiqa's pipeline: recipes and the runner behind `lifeiqa train`."""
