"""Builds the translation catalogues into the wheel: a checkout holds only the .po files, so
`pip install .` compiles them (an editable install compiles nothing: `make` does)."""

from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from setuptools import setup
from setuptools.command.build_py import build_py


class BuildWithCatalogues(build_py):
    def run(self):
        for po in Path(__file__).parent.glob("vehiclewatch/translations/*/LC_MESSAGES/*.po"):
            with po.open("rb") as source:
                catalog = read_po(source)
            with po.with_suffix(".mo").open("wb") as target:
                write_mo(target, catalog)
        super().run()


setup(cmdclass={"build_py": BuildWithCatalogues})
