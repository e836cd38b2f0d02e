import errno
import os
import stat

import pytest

from bot.engine.schema import MythEntry, slugify
from bot.storage.guild_store import Actor, GuildStore

ANA = Actor(5, "Ana")
BO = Actor(6, "Bo")
GUILD, OTHER_GUILD = 111, 222


def creatine_entry(**changes) -> MythEntry:
    """What the form layer hands the store: a complete, validated entry (its id is only a wish on add)."""
    fields = {
        "id": "does-creatine-make-you-bloated",
        "title": "Does creatine make you bloated?",
        "questions": ["does creatine make you bloated", "creatine water retention"],
        "answer": "Some people hold a little extra water in the first week; it is inside the muscle.",
        "verdict": "partly true",
        "evidence": "moderate",
        "links": ["https://doi.org/10.1186/s12970-021-00412-w"],
    }
    return MythEntry.model_validate({**fields, **changes})


def myth(title: str, *questions: str, **changes) -> MythEntry:
    """A creatine-like entry with its own title and questions; its id (a wish, on add) is the title's slug."""
    return creatine_entry(id=slugify(title), title=title, questions=list(questions), **changes)


def numbered_entry(n: int, prefix: str = "topic") -> MythEntry:
    return MythEntry(id=f"{prefix}-{n}-question", title=f"{prefix} {n} question",
                     questions=[f"what about {prefix} {n} and the rest"], answer=f"Answer {n}.", verdict="myth",
                     evidence="limited")


def fail_directory_fsync(monkeypatch):
    """Make fsync of a directory fail with EINVAL, as some network and FUSE mounts do; files still sync."""
    real_fsync = os.fsync

    def fsync(fd):
        if stat.S_ISDIR(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "Invalid argument")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)


@pytest.fixture
def store(tmp_path, fixture_kb):
    return GuildStore(tmp_path / "data", fixture_kb)
