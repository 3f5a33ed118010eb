"""Segments: a stretch of road or trail drawn once, and the efforts of every activity that
rides or runs it, start to end and in order (pure: plain data in, plain data out).

`shape` builds a Segment, `cells` indexes it for candidate search, `match` finds the
efforts of one track on one segment, `effort` measures each. Neither a segment nor a
track may cross the antimeridian: bounding boxes and cells are plain degree ranges.
"""
