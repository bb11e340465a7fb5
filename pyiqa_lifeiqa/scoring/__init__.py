"""Scoring image collections: parallel decoding, batched crops, streamed and resumable output, sharding.

``lifeiqa score`` (:mod:`pyiqa_lifeiqa.cli.score`) is built from these parts:

* :mod:`.files`: a torch ``Dataset`` of image files, decoded (and, for Life-IQA, cropped) in
  data loader workers; a file that cannot be read becomes an error item, never an exception;
* :mod:`.scorer`: scores a batch of decoded files with a pyiqa metric, the crops of all of
  them in one forward pass for Life-IQA;
* :mod:`.output`: CSV/JSON output written row by row as scores come, and read back to resume;
* :mod:`.distributed`: the torchrun process group, the shard of each rank, the merge.
"""
