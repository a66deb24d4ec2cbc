"""Segment intents: how many patients a saved segment selects now (a campaign's audience; nothing is sent)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from rapidfuzz import fuzz, process

from app.assistant.intents.common import Context, Handler
from app.ports.nlu import Intent
from app.segments import service as segments
from app.understanding.draft import Draft

# How alike a segment's name must be to the words said (rapidfuzz WRatio, 0-100).
SEGMENT_SCORE = 75
SEGMENTS_READ = 100  # saved segments compared by name; a clinic keeps far fewer


async def preview(draft: Draft, ctx: Context) -> None:
    """Answer: the named segment's size now, by the same evaluation a campaign run uses."""
    saved, _ = await segments.listed(ctx.fhir, page=1, count=SEGMENTS_READ)
    names = {segment.id: segment.name for segment in saved}
    said = draft.entities.segment
    match = process.extractOne(said, names, scorer=fuzz.WRatio, score_cutoff=SEGMENT_SCORE) if said else None
    if match is None:
        known = ", ".join(sorted(names.values())) or "none is saved yet"
        unknown = f"I know no segment {said!r}. " if said else ""
        draft.need("segment", "Segment", why=f"{unknown}Which segment: {known}?")
        return
    name, segment_id = str(match[0]), str(match[2])
    size = await segments.count(ctx.fhir, segment_id=segment_id, now=ctx.real_now, tz=ZoneInfo(ctx.timezone))
    draft.results.append({"segment": f"Group/{segment_id}", "name": name, "count": size})
    draft.answer = (
        f"The segment {name!r} selects {size} patient{'s' if size != 1 else ''} now. "
        "Nothing is sent from here: a campaign to it starts only from the campaigns screen."
    )


HANDLERS: dict[Intent, Handler] = {Intent.PREVIEW_SEGMENT: preview}
