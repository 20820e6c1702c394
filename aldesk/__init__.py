"""aldesk: offline active-learning labeling for local folders of images and DICOM files."""

__version__ = "0.1.0"
