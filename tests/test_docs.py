"""Every public function, class and method documents itself with a numpydoc Examples section.

The examples themselves run as doctests (``--doctest-modules`` in pytest's configuration).
"""

import importlib
import inspect

import pytest

MODULES = [
    "mdctcompand", "mdctcompand.transform", "mdctcompand.windows", "mdctcompand.ggd", "mdctcompand.stats",
    "mdctcompand.profile", "mdctcompand.compand", "mdctcompand.converter", "mdctcompand.codec",
    "mdctcompand.containers", "mdctcompand.metrics", "mdctcompand.io", "mdctcompand.dataset",
    "mdctcompand.fitting", "mdctcompand.parallel", "mdctcompand.reference", "mdctcompand.testing",
    "mdctcompand.plotting",
]  # fmt: skip


def _public(module_name):
    mod = importlib.import_module(module_name)
    for name in getattr(mod, "__all__", []):
        obj = getattr(mod, name)
        if inspect.isfunction(obj):
            yield f"{module_name}.{name}", obj
        elif inspect.isclass(obj):
            yield f"{module_name}.{name}", obj
            for attr, member in vars(obj).items():
                if attr.startswith("_"):
                    continue
                if isinstance(member, (classmethod, staticmethod)):
                    member = member.__func__
                if inspect.isfunction(member):
                    yield f"{module_name}.{name}.{attr}", member


@pytest.mark.parametrize("module_name", MODULES)
def test_public_api_has_examples(module_name):
    missing = [q for q, obj in _public(module_name) if "Examples\n" not in (inspect.getdoc(obj) or "")]
    assert missing == []


def test_diffusion_api_has_examples():
    pytest.importorskip("diffusers")
    missing = [
        q for q, obj in _public("mdctcompand.diffusion") if "Examples\n" not in (inspect.getdoc(obj) or "")
    ]
    assert missing == []
