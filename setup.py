"""Everything is configured in pyproject.toml; this file only sets the wheel tag.

(setuptools' ``[tool.setuptools.cmdclass]`` table would replace the commands setuptools-rust
installs, so the override has to come from here.)
"""

from setuptools import setup
from setuptools.command.bdist_wheel import bdist_wheel


class BdistWheelPy3None(bdist_wheel):
    """Tags wheels ``py3-none-<platform>``: the library never touches the CPython API."""

    def get_tag(self) -> tuple:
        _, _, platform = super().get_tag()
        return "py3", "none", platform


setup(cmdclass={"bdist_wheel": BdistWheelPy3None})
