"""Reading files: folder scans, content keys, image and DICOM decoding."""
