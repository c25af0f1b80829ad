"""Block spectrum {sizes, values}: eta constant on consecutive blocks; and its block teacher {values}: w
constant on the same blocks."""

from __future__ import annotations

import numpy as np

from .base import SpectrumKind, TeacherKind, number, numbers


class Blocks(SpectrumKind):
    name = "blocks"
    description = "eta = values[i] on a block of sizes[i] consecutive modes"
    properties = {
        "sizes": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/positive_int"}},
        "values": {"type": "array", "minItems": 1, "items": {"type": "number", "exclusiveMinimum": 0}},
    }
    required = ("sizes", "values")
    dimension_key = "sizes"
    size_keys = {"sizes": "size"}

    def check(self, spectrum, fail):
        if len(spectrum["sizes"]) != len(spectrum["values"]):
            fail("values", spectrum["values"],
                 f"length {len(spectrum['values'])} != length of spectrum.sizes ({len(spectrum['sizes'])})")

    def dimension(self, spectrum):
        return int(sum(spectrum["sizes"]))

    def eigenvalues(self, spectrum):
        return np.repeat(np.asarray(spectrum["values"], dtype=float), spectrum["sizes"])

    def structure(self, spectrum):
        return {"block_size": ("block", np.asarray(spectrum["sizes"], dtype=np.int64),
                               {"long_name": "number of modes in each block of the spectrum", "units": "1"}),
                "block_value": ("block", np.asarray(spectrum["values"], dtype=float),
                                {"long_name": "population eigenvalue of each block", "units": "1"})}

    def caption(self, spectrum):
        return (f"block spectrum, {len(spectrum['sizes'])} blocks of sizes {numbers(spectrum['sizes'])} with "
                f"eigenvalues {numbers(spectrum['values'])} (D = {number(sum(spectrum['sizes']))})")


class BlocksTeacher(TeacherKind):
    name = "blocks"
    description = "w = values[i] on the spectrum's block i"
    properties = {"values": {"type": "array", "minItems": 1, "items": {"type": "number"}}}
    required = ("values",)
    needs = "blocks"

    def check(self, teacher, spectrum, fail):
        if len(teacher["values"]) != len(spectrum["sizes"]):
            fail("values", teacher["values"], f"length must equal length of spectrum.sizes ({len(spectrum['sizes'])})")

    def weights(self, teacher, spectrum, eta):
        return np.repeat(np.asarray(teacher["values"], dtype=float), spectrum["sizes"])

    def caption(self, teacher):
        return f"block target, values {numbers(teacher['values'])}"


BLOCKS = Blocks()
BLOCKS_TEACHER = BlocksTeacher()
