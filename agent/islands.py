"""Islands of MAP-Elites grids: where the LLM proposer draws its parents and inspirations from.

One global archive ranks everything (``agent.archive``); the islands keep a varied population
for the writer to build on. Each island is a MAP-Elites grid: one elite per cell of the
``agent.descriptors`` bins (language, memory level, block class, launches, tensor-core dots,
source size), the best ok result of that cell by the archive's rank. Islands evolve apart, so
one early winner does not take over every prompt, and every ``migration_interval`` writer calls
each island sends its best elite to the next one on a ring.

Where a candidate lives:

* an LLM-written structure, and every tuned config of it, on the island its parent was drawn
  from (the island is recorded with the call that wrote it);
* everything else (the reference, the problem's own families, a user's file) on every island:
  they are the common start;
* a migrant also on the island it was sent to (migrations are recorded too).

The grids are a function of those placements and the results, whatever order the results come
in, so a resumed run rebuilds exactly the islands it had from the store.

Parent selection balances exploitation and exploration: ``exploit_share`` of the draws take one
of the island's ``exploit_top`` best elites, ``pareto_share`` take a point of the run's Pareto
front (latency, error, memory), and the rest are uniform over the island's cells, weighted
towards cells whose elites have had few children, so a cell that has been built on often gives
way to one that has not.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from agent.archive import Archive, ArchiveEntry, RankKey, rank_key
from agent.descriptors import DescriptorInputs, describe
from kernels.provenance import IslandMigration

Cell = tuple[str, str, str, str, bool, str]


@dataclass(frozen=True)
class IslandSettings:
    """How many islands, how often they trade, and how parents are drawn."""

    islands: int = 3
    migration_interval: int = 8  # writer calls between migrations; 0 never migrates
    exploit_share: float = 0.5
    pareto_share: float = 0.15
    exploit_top: int = 3

    def __post_init__(self) -> None:
        if self.islands < 1:
            raise ValueError(f"there must be at least one island, got {self.islands}")
        if self.migration_interval < 0 or self.exploit_top < 1:
            raise ValueError("migration_interval must be >= 0 and exploit_top >= 1")
        if not (
            self.exploit_share >= 0 and self.pareto_share >= 0 and self.exploit_share + self.pareto_share <= 1
        ):
            raise ValueError("exploit_share and pareto_share must be >= 0 and add up to at most 1")


def cell_of(entry: ArchiveEntry) -> Cell:
    """The MAP-Elites cell of an entry: its source's descriptor, with the launches it was measured at."""
    return describe(entry.candidate.source, DescriptorInputs.from_result(entry.result)).cell()


class EliteGrid:
    """One island: the best ok entry of each cell."""

    def __init__(self) -> None:
        self._elites: dict[Cell, ArchiveEntry] = {}
        self._members: set[str] = set()

    def __len__(self) -> int:
        return len(self._elites)

    def __contains__(self, candidate_hash: object) -> bool:
        return candidate_hash in self._members

    def offer(self, entry: ArchiveEntry, cell: Cell) -> bool:
        """Place an ok entry; True when it became its cell's elite."""
        key = rank_key(entry)
        if key is None:
            return False
        self._members.add(entry.candidate.hash)
        current = self._elites.get(cell)
        if current is not None and _key(current) <= key:
            return False
        self._elites[cell] = entry
        return True

    def elites(self) -> list[ArchiveEntry]:
        """The elites, best first."""
        return sorted(self._elites.values(), key=_key)

    def cells(self) -> dict[Cell, ArchiveEntry]:
        return dict(self._elites)

    def best(self) -> ArchiveEntry | None:
        return min(self._elites.values(), key=_key, default=None)


class IslandModel:
    """The islands of one run, fed from the archive as results arrive."""

    def __init__(self, settings: IslandSettings | None = None) -> None:
        self.settings = settings or IslandSettings()
        self.grids = [EliteGrid() for _ in range(self.settings.islands)]
        self._home: dict[str, int] = {}  # family -> its island, for LLM-written structures
        self._sent: dict[str, set[int]] = {}  # candidate hash -> islands it migrated to
        self._children: Counter[str] = Counter()  # parent hash -> candidates written from it
        self._cells: dict[str, Cell] = {}  # candidate hash -> cell, so each source is read once
        self.migrations: list[IslandMigration] = []

    def assign(self, family: str, island: int) -> None:
        """Give an LLM-written family its island (the one its writer's parent came from)."""
        self._home.setdefault(family, island % len(self.grids))

    def island_of(self, family: str) -> int | None:
        """The island of an LLM-written family; None for the common start, which is on all."""
        return self._home.get(family)

    def place(self, entry: ArchiveEntry) -> None:
        """An entry whose result arrived: on its family's island, every island it was sent to,
        or all of them for the common start."""
        if entry.candidate.parent_hash:
            self._children[entry.candidate.parent_hash] += 1
        if not entry.result.ok:
            return
        home = self._home.get(entry.candidate.family)
        islands = set(range(len(self.grids))) if home is None else {home}
        islands |= self._sent.get(entry.candidate.hash, set())
        cell = self._cell(entry)
        for island in islands:
            self.grids[island].offer(entry, cell)

    def record_migration(self, migration: IslandMigration, archive: Archive | None = None) -> None:
        """Note a migration (live or read back from the store) and place the migrant if known."""
        self.migrations.append(migration)
        self._sent.setdefault(migration.candidate_hash, set()).add(migration.target % len(self.grids))
        entry = archive.by_hash(migration.candidate_hash) if archive is not None else None
        if entry is not None and entry.result.ok:
            self.grids[migration.target % len(self.grids)].offer(entry, self._cell(entry))

    def due_migrations(self, writer_calls: int) -> list[IslandMigration]:
        """The migrations to make before writer call number ``writer_calls`` (counting from 0):
        every island's best elite, to the next island, each ``migration_interval`` calls."""
        interval = self.settings.migration_interval
        count = len(self.grids)
        if count < 2 or interval == 0 or writer_calls == 0 or writer_calls % interval:
            return []
        moves = []
        for island, grid in enumerate(self.grids):
            best = grid.best()
            target = (island + 1) % count
            if best is not None and best.candidate.hash not in self.grids[target]:
                moves.append(IslandMigration(best.candidate.hash, island, target))
        return moves

    def select(self, island: int, archive: Archive, rng: random.Random) -> ArchiveEntry | None:
        """A parent from ``island``, by the exploitation/exploration mix; from the whole archive
        while the island is empty; None when nothing is ok yet."""
        grid = self.grids[island % len(self.grids)]
        elites = grid.elites()
        if not elites:
            return archive.select(rng)
        draw = rng.random()
        settings = self.settings
        if draw < settings.exploit_share:
            return rng.choice(elites[: settings.exploit_top])
        front = archive.pareto()
        if draw < settings.exploit_share + settings.pareto_share and front:
            return rng.choice(front)
        weights = [1.0 / (1 + self._children[e.candidate.hash]) for e in elites]
        return rng.choices(elites, weights=weights)[0]

    def inspirations(
        self, island: int, parent: ArchiveEntry | None, count: int, rng: random.Random
    ) -> list[ArchiveEntry]:
        """Up to ``count`` elites of other cells than the parent's: from its own island first,
        then from the others, so the writer sees ideas that worked elsewhere in the grid."""
        skip = self._cell(parent) if parent is not None else None
        own = self.grids[island % len(self.grids)]
        picked = _sample([e for c, e in own.cells().items() if c != skip], count, rng)
        if len(picked) < count:
            seen = {e.candidate.hash for e in picked} | ({parent.candidate.hash} if parent else set())
            others = {
                e.candidate.hash: e
                for g in self.grids
                if g is not own
                for c, e in g.cells().items()
                if c != skip and e.candidate.hash not in seen
            }
            picked += _sample(list(others.values()), count - len(picked), rng)
        return picked

    def snapshot(self) -> list[dict[Cell, str]]:
        """Each island's cells and the hash of their elites: what a resumed run must match."""
        return [{cell: e.candidate.hash for cell, e in grid.cells().items()} for grid in self.grids]

    def _cell(self, entry: ArchiveEntry) -> Cell:
        found = self._cells.get(entry.candidate.hash)
        if found is None:
            found = self._cells[entry.candidate.hash] = cell_of(entry)
        return found


def _sample(items: Iterable[ArchiveEntry], count: int, rng: random.Random) -> list[ArchiveEntry]:
    pool = sorted(items, key=_key)
    return rng.sample(pool, min(count, len(pool)))


def _key(entry: ArchiveEntry) -> RankKey:
    key = rank_key(entry)
    assert key is not None, "only ok entries are elites"
    return key
