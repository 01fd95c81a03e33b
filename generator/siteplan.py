"""The last build's plan kept between command-line runs (`.tipscale/plan.json` and its
parts, see plan.py): saved after a build, restored by the next one."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from typing import Any

from . import collector, plan
from .followup_pages import Shown
from .load import Before, Loaded
from .pages import Page
from .sitemodel import Contacts, Model, Sorted, Stamps
from .sitestate import BuilderState, Previous, legacy_state
from .write import STATE_DIR


class Unplanned(Mapping[str, Page]):
    """The pages of a restored plan, by path: what its manifest says of each (made into a `Page`
    when asked for: an update asks for none of ten thousand)."""

    def __init__(self, manifest: dict[str, str]) -> None:
        self.manifest = manifest  # never changed (a build replaces the builder's, never edits it)

    def __getitem__(self, path: str) -> Page:
        return Page(path, self.manifest[path], not_planned)

    def __iter__(self) -> Iterator[str]:
        return iter(self.manifest)

    def __len__(self) -> int:
        return len(self.manifest)

    def __contains__(self, path: object) -> bool:
        return path in self.manifest


def manifest_of(pages: Mapping[str, Page]) -> dict[str, str]:
    """Path → digest of every planned page; for an update of a restored plan, its manifest
    with the pages the update planned again or dropped (without a `Page` for every other)."""
    if isinstance(pages, plan.Changed) and isinstance(pages.base, Unplanned):
        manifest = dict(pages.base.manifest)
        for path in pages.removed:
            del manifest[path]
        for path, page in pages.changes.items():
            manifest[path] = page.digest
        return manifest
    return {path: page.digest for path, page in pages.items()}


def not_planned() -> bytes:
    raise RuntimeError("a page of an earlier run was made again without being planned")


class PlanStore(BuilderState):
    """Saves the plan of the last build and restores it for the next command-line run."""

    def _save_plan(self, build_id: str) -> None:
        """Keep this build's plan for the next command-line run (see plan.py)."""
        prev = self._previous
        if prev is None:
            return
        model = prev.model
        shares = {slug: share for slug, share in model.shares.items() if share != (0, 0)}
        snapshot = plan.Plan(
            key=prev.key, versions=model.versions, profiles=model.profiles,
            followups=model.followups, shares=shares, rate=model.rate,
            recent=[(r[3], r[4]) for r in model.recent], recent_complete=model.recent_complete,
            resolved=model.resolved, backlinks=model.backlinks, tags=model.tags, companies=model.companies,
            order=model.order, histories=model.histories if model.histories.keys() <= model.versions.keys()
            else {p: h for p, h in model.histories.items() if p in model.versions},
            invalid=prev.invalid, loose=prev.loose, row_keys=prev.row_keys, row_tokens=prev.row_tokens,
            shown=prev.shown.to_plain() if prev.shown is not None else None, event_tokens=prev.event_tokens,
            event_sum=prev.event_sum, names=model.names,
        )  # fmt: skip
        # Each large part is written only when it changed since it was read (see plan.py). The
        # parts as read are never changed in place (an update copies what it changes), so equal
        # values mean an equal file.
        files: dict[str, str] = {}
        loaded = self.loaded
        for name in plan.SECTIONS:
            kept = self._plan_files.get(name)
            saved = loaded.saved_stamps if loaded is not None and snapshot.versions is loaded.stamps else None
            if name == "versions" and saved is not None:
                # The stamps the load summary saved: the same bytes (and no 10,000 to compare).
                files[name] = plan.part_name(name, saved[0])
                if kept is None or kept[0] != files[name]:
                    self.writer.write(f"{STATE_DIR}/{files[name]}", saved[1])
                continue
            if kept is not None:
                value = plan.section_value(snapshot, name)
                if plan.same_part(value, kept[1]):
                    files[name] = kept[0]
                    continue
            try:
                data = plan.encode_section(snapshot, name)
            except ValueError:  # not a plain value: no plan is kept, the next run plans in full
                return
            files[name] = plan.part_file(name, data)
            self.writer.write(f"{STATE_DIR}/{files[name]}", data)
        head = plan.encode_head(snapshot, build_id, files)
        self.writer.write(plan.HEAD, json.dumps(head, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
        self._plan_files = {}
        live = set(files.values())
        try:
            with os.scandir(self.out / STATE_DIR) as entries:
                old = [
                    e.name
                    for e in entries
                    if (e.name.startswith("plan-") and e.name not in live) or legacy_state(e.name)
                ]
        except OSError:
            old = []
        for name in old:
            self.writer.remove(f"{STATE_DIR}/{name}")

    def _read_plan(self, build_id: str, before: Before | None = None) -> plan.Plan | None:
        """The saved plan of build `build_id`: plan.json and the files of its large parts (those
        `prefetched` already, from there). Its file stamps are most often those of the load
        summary the load started from (`before`; the same bytes): then they are not read again."""
        ahead, self.prefetched = self.prefetched, None
        if ahead is not None and ahead.build_id == build_id and ahead.head is not None:
            head, parts = ahead.head, ahead.parts
        else:
            head, parts = self.writer.read_json(plan.HEAD), {}
        if not isinstance(head, dict) or head.get("version") != plan.VERSION or head.get("build") != build_id:
            return None
        files = head.get("files")
        if not isinstance(files, dict) or set(files) != set(plan.SECTIONS):
            return None
        sections: dict[str, Any] = {}
        for name, file in files.items():
            if not isinstance(file, str):
                return None
            if name == "versions" and before is not None and file == plan.part_name(name, before.digest):
                value = before.stamps
            else:
                value = parts[file] if file in parts else plan.read_part(self.writer, file)
            if value is None:
                return None
            sections[name] = value
        snapshot = plan.decode(head, build_id, sections)
        if snapshot is not None and not self.long_lived:  # what the next save compares against
            self._plan_files = {name: (files[name], plan.section_value(snapshot, name)) for name in plan.SECTIONS}
        return snapshot

    def _restore_plan(self, loaded: Loaded) -> Previous | None:
        """The last build's plan as saved by `_save_plan`, when it belongs to the build the
        manifest describes and every page of that build is still there; else None."""
        with collector.held():  # what it makes lives until the next build's plan replaces it
            return self._restored_plan(loaded)

    def _restored_plan(self, loaded: Loaded) -> Previous | None:
        build_id = self.meta.get("site_key")
        if not isinstance(build_id, str) or not self.manifest:
            return None
        snapshot = self._read_plan(build_id, loaded.before)
        if snapshot is None or not self._all_pages_there():
            return None
        sources = loaded.sources()
        followups = snapshot.followups
        profiles = snapshot.profiles
        stamps = Stamps(snapshot.versions, profiles.keys())
        names = snapshot.names  # as the plan's model had them (making them unpacks every profile)
        slugs = profiles.keys()
        model = Model(
            loaded=loaded, today=snapshot.key[1], real_today=snapshot.key[2], contacts=Contacts(sources),
            stamps=stamps, followups=followups, all_followups=Sorted.of(followups),
            backlinks=snapshot.backlinks, resolved=snapshot.resolved, tags=snapshot.tags,
            companies=snapshot.companies, order=snapshot.order, histories=snapshot.histories,
            rate=snapshot.rate, recent=[(i.date, i.time or "", profiles[slug][0], slug, i) for slug, i in snapshot.recent],
            recent_complete=snapshot.recent_complete, versions=snapshot.versions, profiles=profiles,
            # The names and slugs of build `build_id` (hashing them all took 3 ms): the in-process
            # memos it keys only need it to change with them.
            slugs=slugs, names=names, names_signature=hash(("plan", build_id)),
        )  # fmt: skip
        model.shares = dict(snapshot.shares)  # the non-zero ones (a contact not there has (0, 0))
        self.head, self.histories, self.stamps = snapshot.key[3], snapshot.histories, stamps
        self._histories_partial = True  # only the files planned then: a full plan asks git again
        return Previous(
            model=model,
            pages=Unplanned(self.manifest),
            key=snapshot.key,
            invalid=snapshot.invalid,
            loose=snapshot.loose,
            row_keys=snapshot.row_keys,
            row_tokens=snapshot.row_tokens,
            shown=Shown.from_plain(snapshot.shown),
            event_tokens=snapshot.event_tokens,
            event_sum=snapshot.event_sum,
        )

    def _all_pages_there(self) -> bool:
        """Does every page of the last build's manifest exist? (Asked once a build: the answer
        a caller gave with the manifest it read counts once.)"""
        known, self._pages_complete = self._pages_complete, None
        if known is not None:
            return known
        assert self.manifest is not None
        return not self.writer.missing(self.manifest)
