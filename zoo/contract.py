"""The model I/O contract's numbers, shared by data, networks and runtimes (DESIGN section 4).

Pixels go in as RGB ``pixel / 127.5 - 1``; the pose head's output is degrees / ``POSE_SCALE_DEG``.
They live on the ground floor so that the dataset, the architectures and every backend agree
without the data pipeline importing the models.
"""

from __future__ import annotations

#: Pixel normalisation: RGB float, ``(pixel - PIXEL_MEAN) / PIXEL_STD``.
PIXEL_MEAN = 127.5
PIXEL_STD = 127.5

#: The pose output is (yaw, pitch, roll) / POSE_SCALE_DEG, so tanh covers +-90 degrees.
POSE_SCALE_DEG = 90.0
