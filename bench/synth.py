"""Synthetic plans for the benchmark: borough, region and national size, deterministic for a seed.

A plan is written the way a real one arrives: a plan folder made by ``init_plan``, then every action,
closed history cycle and progress report put into the register in ONE batch (``Register.batch``), so the
register looks exactly like one that an import built. The text is meant to cost what real text costs:
progress reports of 50 to 400 words in paragraphs and bullet lines, with £ amounts, accented names,
en dashes and curly quotes; lead names are job titles, a few leads own many actions (as Directors of
Public Health do) and most own one to three.

    python bench/synth.py borough /tmp/plan      # build one plan and print what it holds
"""

from __future__ import annotations

import itertools
import random
import sys
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from hwbs_xl.model import Action, Cycle, Month, Provenance, Update, cycle_seq
from hwbs_xl.paths import PlanPaths
from hwbs_xl.plan.folder import init_plan
from hwbs_xl.register import Register, action_row, cycle_row, now_iso, update_row

SEED = 2024
NEW_CYCLE = "October 2024"  # the cycle the benchmark opens after the history (the same one the demo opens)
NEW_CYCLE_DUE = date(2024, 10, 18)
LAST_HISTORY = Month(2024, 4)  # history cycles run back from April 2024 every six months


@dataclass(frozen=True)
class Size:
    name: str
    actions: int
    leads: int
    cycles: int  # closed cycles of history
    key_areas: int


SIZES: dict[str, Size] = {
    # "tiny" is for the test suite and --quick smoke runs; the other three are the sizes.
    "tiny": Size("tiny", actions=8, leads=5, cycles=2, key_areas=2),
    "borough": Size("borough", actions=50, leads=30, cycles=3, key_areas=5),
    "region": Size("region", actions=1_000, leads=600, cycles=8, key_areas=8),
    "national": Size("national", actions=10_000, leads=6_000, cycles=8, key_areas=12),
}


@dataclass(frozen=True)
class SynthSummary:
    size: str
    actions: int
    leads: int
    cycles: list[str]
    updates: int
    words: int
    seconds: float

    def line(self) -> str:
        return (f"{self.size}: {self.actions} actions, {self.leads} leads, {len(self.cycles)} history cycles, "
                f"{self.updates} progress reports ({self.words:,} words) in {self.seconds:.1f} s")


# ---- words -----------------------------------------------------------------------------------------

KEY_AREA_NAMES = [
    "Best start in life", "Healthy weight and active lives", "Mental health and wellbeing",
    "Ageing well", "Healthy places and communities", "Tackling health inequalities",
    "Substance misuse and harm reduction", "Sexual and reproductive health", "Housing and health",
    "Employment and skills for health", "Long-term conditions", "Carers and young carers",
    "Healthy schools", "Air quality and climate", "Social prescribing", "Suicide prevention",
]
ROLES = [
    "Director", "Head", "Assistant Director", "Service Manager", "Commissioning Manager", "Programme Lead",
    "Strategic Lead", "Consultant", "Team Manager", "Principal Officer", "Clinical Lead", "Partnership Manager",
    "Project Officer", "Senior Practitioner", "Development Manager", "Coordinator", "Chair", "Chief Officer",
    "Deputy Director", "Locality Manager",
]
SERVICES = [
    "Public Health", "Adult Social Care", "Children’s Services", "Early Help", "Housing", "Leisure and Culture",
    "Environmental Health", "Education and Skills", "Community Safety", "Planning", "Highways", "Libraries",
    "Healthwatch", "Voluntary Sector Partnerships", "Mental Health Services", "Primary Care", "Integrated Care Board",
    "Youth Services", "Employment Support", "Sports Development", "Family Hubs", "Drug and Alcohol Services",
    "Sexual Health", "Parks and Open Spaces", "Regeneration", "Customer Services", "Emergency Planning",
    "Safeguarding", "Carers Support", "Neighbourhood Services",
]
PLACES = [
    "", " (North Locality)", " (South Locality)", " (East Locality)", " (West Locality)", " – Hospital Trust",
    " – Community Trust", " (Barnet)", " (Enfield)", " (Haringey)", " (Camden)", " (Islington)",
    " – Université partnership", " (Café Network)",
]
VERBS = ["Deliver", "Develop", "Commission", "Expand", "Review", "Launch", "Embed", "Pilot", "Evaluate",
         "Co-produce", "Promote", "Improve", "Strengthen", "Roll out", "Map"]
OBJECTS = ["a borough-wide programme", "the local offer", "a targeted outreach service", "the pathway",
           "a training package", "a joint protocol", "community champions", "the digital front door",
           "a peer support network", "the needs assessment", "a referral route", "the action plan"]
AIMS = ["to reduce childhood obesity", "for residents with long-term conditions", "to improve uptake of NHS Health Checks",
        "to support carers", "in areas of highest deprivation", "for people leaving hospital",
        "to reduce isolation among older residents", "with schools and family hubs", "for young people aged 16–25",
        "to increase physical activity", "to reduce smoking prevalence", "for people sleeping rough"]

SUBJECTS = ["The team", "The working group", "Our partners", "The steering group", "Commissioners",
            "The provider", "The Healthy Weight Alliance", "Public Health colleagues", "The ICB", "Volunteers",
            "José Álvarez’s team", "The Café Network", "Zoë and the outreach workers", "The Board"]
PREDICATES = ["have completed", "are reviewing", "delivered", "agreed", "have started", "reported on",
              "consulted residents about", "secured £{money} for", "evaluated", "mapped", "piloted",
              "are on track with", "presented", "re-procured"]
THINGS = ["the second phase of the programme", "the outreach sessions", "the referral pathway",
          "a “walk and talk” scheme", "the résumé workshops", "the data-sharing agreement",
          "the training for frontline staff", "the 2023–24 service specification", "the family hub offer",
          "the community grants", "“Making Every Contact Count” training", "the digital inclusion sessions",
          "the needs assessment", "the evaluation framework", "the café-based drop-ins"]
TAILS = ["in {n} wards", "with {n} participants", "ahead of schedule", "despite staffing pressures",
         "as agreed at the {month} Board", "— uptake rose by {n}%", "in partnership with the ICB",
         "and feedback has been positive", "(see the attached report)", "within the £{money} budget",
         "after a delay caused by recruitment", "for the period April–September"]
MONTHS = ["January", "March", "June", "July", "September", "November"]


class TextMaker:
    """Sentences that read like a lead's progress report, made fast enough for 80,000 reports."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def sentence(self) -> str:
        r = self.rng
        s = f"{r.choice(SUBJECTS)} {r.choice(PREDICATES)} {r.choice(THINGS)} {r.choice(TAILS)}."
        if "{" in s:
            s = s.format(money=f"{r.randint(2, 450) * 500:,}", n=r.randint(3, 95), month=r.choice(MONTHS))
        return s

    def report(self, low: int = 50, high: int = 400) -> tuple[str, int]:
        """A progress report of ``low``..``high`` words: paragraphs, some bullet lines. Returns (text, words)."""
        r = self.rng
        target = r.randint(low, high)
        paragraphs: list[str] = []
        words = 0
        while words < target:
            if paragraphs and r.random() < 0.2:
                items = [f"• {self.sentence()}" for _ in range(r.randint(2, 4))]
                block = "\n".join(items)
            else:
                block = " ".join(self.sentence() for _ in range(r.randint(2, 5)))
            paragraphs.append(block)
            words += len(block.split())
        text = "\n\n".join(paragraphs)
        cut = text.split(" ")
        if words > high:  # trim the last paragraph so the report stays within the limit
            text = " ".join(cut[: len(cut) - (words - high)]).rstrip(" ,;—–") + "."
            words = high
        return text, words

    def activity(self) -> str:
        r = self.rng
        how = self.sentence()
        return f"{r.choice(VERBS)} {r.choice(OBJECTS)} {r.choice(AIMS)}. {how}"


def lead_names(count: int, rng: random.Random) -> list[str]:
    """``count`` distinct job titles ("Head of Public Health (North Locality)")."""
    combos = list(itertools.product(ROLES, SERVICES, PLACES))
    if count > len(combos):
        raise ValueError(f"at most {len(combos)} distinct leads")
    rng.shuffle(combos)
    return [f"{role} of {service}{place}" for role, service, place in combos[:count]]


def history_labels(cycles: int) -> list[str]:
    """The closed cycles, oldest first, six months apart and ending April 2024."""
    out = []
    year, april = LAST_HISTORY.year, True
    for _ in range(cycles):
        out.append(f"{'April' if april else 'October'} {year}")
        if april:
            year, april = year - 1, False
        else:
            april = True
    return out[::-1]


def _assign_leads(size: Size, leads: list[str], rng: random.Random) -> list[tuple[str, ...]]:
    """Every lead gets at least one action; extra leads are drawn with a long tail (a few own many)."""
    primaries = [leads[i % len(leads)] for i in range(size.actions)]
    rng.shuffle(primaries)
    weights = list(itertools.accumulate(1.0 / (rank + 1) ** 0.9 for rank in range(len(leads))))
    out = []
    for primary in primaries:
        chosen = [primary]
        extra = rng.choices((0, 1, 2), weights=(70, 25, 5))[0]
        for lead in rng.choices(leads, cum_weights=weights, k=extra):
            if lead not in chosen:
                chosen.append(lead)
        out.append(tuple(chosen))
    return out


def build_plan(root: Path, size: Size | str, seed: int = SEED) -> SynthSummary:
    """Create a plan folder at ``root`` holding a synthetic plan of ``size`` (one register batch)."""
    started = time.perf_counter()
    size = SIZES[size] if isinstance(size, str) else size
    rng = random.Random(f"{seed}-{size.name}")
    text = TextMaker(rng)
    paths = PlanPaths(Path(root))
    reg, _ = init_plan(paths, f"Synthetic Health and Wellbeing Strategy Implementation Plan ({size.name})")
    leads = lead_names(size.leads, rng)
    labels = history_labels(size.cycles)
    months = [Month.parse(label) for label in labels]
    action_leads = _assign_leads(size, leads, rng)
    per_area = -(-size.actions // size.key_areas)
    n_updates = n_words = 0
    recorded = now_iso()
    with reg.batch("import", command=f"bench/synth.py {size.name} (seed {seed})",
                   summary=f"synthetic {size.name} plan") as b:
        for i, label in enumerate(labels):
            m = months[i]
            assert m is not None
            b.put("cycles", cycle_row(Cycle(label, cycle_seq(label), report_date=m.first_day(), state="closed")))
        for i, leads_of in enumerate(action_leads):
            area, number = divmod(i, per_area)
            key_area = f"Key Area {area + 1}: {KEY_AREA_NAMES[area % len(KEY_AREA_NAMES)]}"
            first = 0 if rng.random() < 0.6 else rng.randrange(len(labels))  # most actions run the whole history
            m0 = months[first]
            assert m0 is not None
            start = _add_months(m0, -rng.randint(1, 12))
            finish = _add_months(LAST_HISTORY, rng.randint(3, 30))
            action = Action(id=f"KA{area + 1}-{number + 1:02d}", key_area=key_area, activity=text.activity(),
                            leads=leads_of, start=start, finish=finish)
            b.put("actions", action_row(action))
            for label in labels[first:]:
                update, words = _update(action, label, text, rng, recorded)
                b.put("updates", update_row(update))
                n_updates, n_words = n_updates + 1, n_words + words
        b.summary = f"synthetic {size.name} plan: {size.actions} actions, {n_updates} progress reports"
    reg.close()
    return SynthSummary(size.name, size.actions, len(leads), labels, n_updates, n_words,
                        time.perf_counter() - started)


def _update(action: Action, label: str, text: TextMaker, rng: random.Random, recorded: str) -> tuple[Update, int]:
    """One history cycle's report. Completed/incorporated never appear, so every action stays active."""
    roll = rng.random()
    if roll < 0.04:  # as imports leave them: a status nobody could map, kept raw and flagged
        status, raw = None, rng.choice(["Ongoing", "In progress – see notes", "TBC"])
    elif roll < 0.38:
        status, raw = "delayed", "Delayed achievement by target date"
    else:
        status, raw = "on_target", "On target to be achieved by target date"
    progress, words = text.report()
    revised = _add_months(action.finish, rng.randint(2, 12)) if status == "delayed" and action.finish else None
    return Update(action_id=action.id, cycle=label, status=status, status_raw=raw, progress=progress,
                  revised_finish=revised, needs_review=status is None, activity_as_reported=action.activity,
                  leads_as_reported=action.leads,
                  source=Provenance(file="synthetic", where="bench/synth.py", recorded_at=recorded)), words


def export_markdown(paths: PlanPaths, out_dir: Path, cycles: int = 2, limit: int | None = None) -> list[Path]:
    """The plan's last ``cycles`` history cycles as committee appendices in the bundled Barnet markdown
    layout (one file per cycle, oldest first), for measuring the import pipeline on the same plan.
    Line breaks inside a cell become <br>, as tables pasted from web pages carry them. ``limit`` keeps the
    first actions only."""
    from hwbs_xl import templates

    vocab = templates.vocabulary(paths.root)
    out_dir.mkdir(parents=True, exist_ok=True)
    with Register.open(paths) as reg:
        plan = reg.plan()
        labels = [c.label for c in reg.cycles() if c.state == "closed"]
        chosen = labels[-cycles:]
        actions = reg.actions()[:limit]
        files = []
        for label in chosen:
            before = labels[labels.index(label) - 1] if labels.index(label) > 0 else None
            now = {u.action_id: u for u in reg.updates(cycle=label)}
            notes = {u.action_id: u for u in reg.updates(cycle=before)} if before else {}
            head = ["HWBS Key Area", "Project Activity", "Lead", "Start Date", "Finish Date",
                    f"Status as of {label}", "Progress Report - What has been achieved, and what still needs to be achieved?"]
            head += [f"{before} notes on action"] if before else []
            lines = ["", "Appendix A", "", plan.title if plan else "", "", _md_row(head), _md_row(["---"] * len(head))]
            for a in actions:
                u = now.get(a.id)
                if u is None:
                    continue
                status = vocab.by_key(u.status)
                cells = [a.key_area.split(":")[0], a.activity, "; ".join(a.leads), a.start.label if a.start else "",
                         a.finish.label if a.finish else "", status.label if status else u.status_raw, u.progress]
                if before:
                    n = notes.get(a.id)
                    cells.append(n.progress if n else "")
                lines.append(_md_row(cells))
            target = out_dir / f"appendix-{label.replace(' ', '-')}.md"
            target.write_text("\n".join(lines) + "\n", encoding="utf-8")
            files.append(target)
    return files


def _md_row(cells: list[str]) -> str:
    return "| " + " | ".join(c.replace("|", "/").replace("\n", "<br>") for c in cells) + " |"


def _add_months(m: Month, n: int) -> Month:
    index = m.year * 12 + m.month - 1 + n
    return Month(index // 12, index % 12 + 1)


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in SIZES:
        print(f"usage: python bench/synth.py {{{','.join(SIZES)}}} PLAN_DIR", file=sys.stderr)
        return 2
    print(build_plan(Path(argv[1]), argv[0]).line())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
