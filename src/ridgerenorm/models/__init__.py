"""The model registry: the `model` value of an experiment names one object here, which owns everything
model-specific (config keys and checks, simulate, merge, theory, costs, caption equations, quantities).

    from ridgerenorm.models import get_model, register
    get_model("linear_ridge").theory(spec, population)

A new model is one module defining a `Model` subclass instance and one `register(...)` call (below for the
built-in models; a user's model can be registered the same way from outside the package).
"""

from __future__ import annotations

from .base import Model, SimulationResult

__all__ = ["Model", "SimulationResult", "MODELS", "register", "get_model", "model_of"]

MODELS: dict[str, Model] = {}


class UnknownModelError(KeyError):
    def __str__(self) -> str:
        return str(self.args[0])


def register(model: Model) -> Model:
    """Add a model to the registry under model.name (replacing one of the same name)."""
    if not isinstance(model, Model):
        raise TypeError(f"register() takes a Model instance, got {type(model).__name__}")
    MODELS[model.name] = model
    return model


def get_model(name: str) -> Model:
    try:
        return MODELS[name]
    except KeyError:
        raise UnknownModelError(f"unknown model {name!r} (known: {', '.join(sorted(MODELS))})") from None


def model_of(spec: dict) -> Model:
    """The model object of an experiment spec."""
    return get_model(spec["model"])


from .linear_ridge import LINEAR_RIDGE  # noqa: E402
from .random_features import RANDOM_FEATURES  # noqa: E402
from .width_sweep import WIDTH_SWEEP  # noqa: E402
from .nonlinear_features import NONLINEAR_RANDOM_FEATURES  # noqa: E402
from .real_data import REAL_DATA  # noqa: E402

for _m in (LINEAR_RIDGE, RANDOM_FEATURES, WIDTH_SWEEP, NONLINEAR_RANDOM_FEATURES, REAL_DATA):
    register(_m)
