"""Backbones, embeddings and (later) committee heads and training.

May import torch, numpy, Pillow and `aldesk.core` only. Nothing is imported here, so that
`import aldesk.ml` stays cheap; import the submodules (`aldesk.ml.backbones`,
`aldesk.ml.embed`, `aldesk.ml.efficientnet`) where they are used, in the worker.
"""
