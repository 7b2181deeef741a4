"""Vision pipeline: preprocessing, garment segmentation and instance extraction (Qt-free)."""
