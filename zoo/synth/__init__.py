"""The synthetic face renderer: head model, deformation, shading, rasteriser, scene and compiled kernels.

``zoo.synth.generate`` writes datasets in the FaceSynthetics layout that ``zoo.data`` reads. This
``__init__`` stays free of numpy/numba imports: results tables read ``RENDER_VERSION`` cheaply.
"""

from __future__ import annotations

#: Bumped whenever the renderer's output changes: cached default datasets are rebuilt and results
#: on the renderer's test split are labelled ``synth-v<N>``, so scores of two renderers never mix.
#: 2: compiled rasteriser (pixel-centre coverage instead of OpenCV's fill, so silhouettes are
#: ~0.5 px tighter), uniform sensor noise; same scenes, landmarks and parameters as 1.
#: 3: shading, scene and geometry fused into compiled passes (twice as fast); same scenes, random
#: draws, landmarks and parameters as 2, pixels within 0.01 grey levels on average (float rounding,
#: specular powers from a table, bilinear texture sampling without OpenCV's 1/32 px grid).
#: 4: ``RenderOptions`` (zoo.synth.options): by default a camera 0.9-1.8 m away (focal 3-6 image widths, was
#: 1.0-1.5) and pitch centred on -7.6 degrees (photos look down); ``RenderOptions.V3`` draws version 3's faces.
#: 5: the ICT head's semi-landmarks (jaw 1-15, lip points) where 300-W's annotators put them along their contours
#: (``ict_landmarks.ARCS``), and by default identities centred on a population fitted to photos' mean shape
#: (``RenderOptions.population = "lfpw"``, ``zoo.synth.population``), and pitch centred on -14 degrees, where
#: solvePnP reads the renders' pitch as it reads the photos' (-7.8); same scenes otherwise.
RENDER_VERSION = 5
