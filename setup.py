"""Build hook: ship the curated knowledge inside the package.

Everything else is configured in pyproject.toml. `knowledge/` stays at the top of the repository,
where curators edit it and tools expect it; at build time its YAML files and JSON Schema are copied
into the built package as `bot/_knowledge/`, which an installed `mythbot` reads by default
(see `bot.settings.default_knowledge_dir`).
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

KNOWLEDGE = Path(__file__).resolve().parent / "knowledge"
KNOWLEDGE_FILES = ("**/*.yaml", "**/*.yml", "schema.json")  # the loader reads every YAML file below
PACKAGED_AS = Path("bot", "_knowledge")


class BuildWithKnowledge(build_py):
    def run(self) -> None:
        super().run()
        if not self.editable_mode:  # an editable install reads knowledge/ in place
            self.copy_knowledge(Path(self.build_lib) / PACKAGED_AS)

    def copy_knowledge(self, target: Path) -> None:
        if not (KNOWLEDGE / "schema.json").is_file():
            raise SystemExit(f"{KNOWLEDGE}: curated knowledge not found; a wheel without it cannot answer anything")
        files = sorted({path for pattern in KNOWLEDGE_FILES for path in KNOWLEDGE.glob(pattern)})
        shutil.rmtree(target, ignore_errors=True)  # no stale file from an earlier build in build/
        for path in files:
            destination = target / path.relative_to(KNOWLEDGE)
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, destination)


setup(cmdclass={"build_py": BuildWithKnowledge})
